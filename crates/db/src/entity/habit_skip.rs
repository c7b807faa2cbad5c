use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "habit_skips")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub habit_id: i64,
    pub user_id: i64,
    pub skip_date: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
