//! Tenants and their users.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{tenants, users};
use super::{new_id, TenantId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

pub enum Registered {
    Created(Tenant, User),
    EmailTaken,
}

/// Creates a tenant and its owner in one transaction.
pub async fn register(
    conn: &mut AsyncPgConnection,
    organization: &str,
    email: &str,
    password_hash: String,
) -> QueryResult<Registered> {
    let now = Utc::now();
    let tenant = Tenant { id: new_id(), name: organization.to_owned(), created_at: now };
    let user = User { id: new_id(), tenant_id: tenant.id, email: email.to_owned(), password_hash, created_at: now };
    conn.transaction(async move |conn| {
        diesel::insert_into(tenants::table).values(&tenant).execute(conn).await?;
        let inserted = diesel::insert_into(users::table)
            .values(&user)
            .on_conflict(users::email)
            .do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            // roll the tenant back too
            return Err(diesel::result::Error::RollbackTransaction);
        }
        Ok(Registered::Created(tenant, user))
    })
    .await
    .or_else(|err| match err {
        diesel::result::Error::RollbackTransaction => Ok(Registered::EmailTaken),
        other => Err(other),
    })
}

/// A tenant's name (the organization given at registration).
pub async fn name(conn: &mut AsyncPgConnection, tenant: TenantId) -> QueryResult<String> {
    tenants::table.find(tenant.0).select(tenants::name).first(conn).await
}

pub async fn find_user_by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email)).select(User::as_select()).first(conn).await.optional()
}
