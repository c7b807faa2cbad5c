//! Which methods a path serves, for `405 Method Not Allowed` and its `Allow` header
//! (RFC 9110 requires it). Actix knows whether a path has a resource but not its methods;
//! the OpenAPI document, built from the same route macros, knows both.

use utoipa::openapi::OpenApi;

/// The served paths as templates (`/api/v1/habits/{id}`) with their methods.
#[derive(Debug, Default)]
pub struct Routes(Vec<(Vec<Segment>, Vec<&'static str>)>);

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
}

impl Routes {
    /// The routes the document describes.
    #[must_use]
    pub fn from_openapi(api: &OpenApi) -> Self {
        let mut routes = Vec::new();
        for (path, item) in &api.paths.paths {
            let methods: Vec<&'static str> = [
                ("GET", item.get.is_some()),
                ("HEAD", item.head.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ]
            .into_iter()
            .filter_map(|(m, served)| served.then_some(m))
            .collect();
            let segments = path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') {
                        Segment::Param
                    } else {
                        Segment::Literal(s.to_owned())
                    }
                })
                .collect();
            routes.push((segments, methods));
        }
        Self(routes)
    }

    /// The methods of the most specific template matching `path` — a literal segment
    /// beats a parameter, leftmost first, as actix's router would pick between
    /// `/habits/stats` and `/habits/{id}`; `None` when no template matches.
    #[must_use]
    pub fn allowed(&self, path: &str) -> Option<&[&'static str]> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(s, p)| match s {
                        Segment::Literal(l) => l == p,
                        Segment::Param => !p.is_empty(),
                    })
            })
            .max_by_key(|(segments, _)| {
                segments
                    .iter()
                    .map(|s| matches!(s, Segment::Literal(_)))
                    .collect::<Vec<bool>>()
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};

    #[test]
    fn the_most_specific_template_answers() {
        let op = || OperationBuilder::new().build();
        let mut item = PathItem::new(HttpMethod::Get, op());
        item.put = Some(op());
        item.delete = Some(op());
        let api = utoipa::openapi::OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/habits/{id}", item)
                    .path("/habits/stats", PathItem::new(HttpMethod::Get, op()))
                    .path("/habits", PathItem::new(HttpMethod::Post, op())),
            )
            .build();
        let routes = Routes::from_openapi(&api);
        assert_eq!(routes.allowed("/habits/stats"), Some(&["GET"][..]));
        assert_eq!(
            routes.allowed("/habits/7"),
            Some(&["GET", "PUT", "DELETE"][..])
        );
        assert_eq!(routes.allowed("/habits"), Some(&["POST"][..]));
        assert_eq!(routes.allowed("/habits/7/x"), None);
        assert_eq!(routes.allowed("/habits/"), None);
    }
}
