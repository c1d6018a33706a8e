//! Organizations and activities.

use clickhouse_cloud_types::ops::{
    ActivityGet, ActivityGetList, ActivityListQuery, ActivityPath, OrganizationGet,
    OrganizationGetList, OrganizationPath, OrganizationUpdate,
};
use clickhouse_cloud_types::{Activity, Organization, OrganizationPatchRequest, Request};
use uuid::Uuid;

use crate::{Client, Error, Response};

/// Organizations visible to the key: `client.organizations()`.
///
/// ```no_run
/// # async fn run(client: clickhouse_cloud_client::Client) -> Result<(), clickhouse_cloud_client::Error> {
/// if let Some(org) = client.organizations().sole().await? {
///     println!("working in {:?}", org.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Organizations {
    client: Client,
}

impl Organizations {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// The organizations the key belongs to (the service returns one).
    pub async fn list(&self) -> Result<Response<Vec<Organization>>, Error> {
        self.client
            .send(Request::<OrganizationGetList>::new((), ()))
            .await
    }

    /// The key's organization, when it sees exactly one; `Ok(None)` when it
    /// sees none or several.
    pub async fn sole(&self) -> Result<Option<Organization>, Error> {
        let mut orgs = self.list().await?.into_result();
        Ok((orgs.len() == 1).then(|| orgs.remove(0)))
    }

    /// One organization.
    pub async fn get(&self, organization_id: Uuid) -> Result<Response<Organization>, Error> {
        let path = OrganizationPath { organization_id };
        self.client
            .send(Request::<OrganizationGet>::new(path, ()))
            .await
    }

    /// Changes an organization (name, private endpoints, core dumps).
    pub async fn update(
        &self,
        organization_id: Uuid,
        changes: OrganizationPatchRequest,
    ) -> Result<Response<Organization>, Error> {
        let path = OrganizationPath { organization_id };
        self.client
            .send(Request::<OrganizationUpdate>::new(path, changes))
            .await
    }
}

/// The audit log of one organization: `client.activities(org_id)`.
///
/// ```no_run
/// use clickhouse_cloud_client::types::ops::ActivityListQuery;
/// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
/// for activity in client.activities(org).list(ActivityListQuery::default()).await?.iter() {
///     println!("{:?} {:?} by {:?}", activity.created_at, activity.r#type, activity.actor_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Activities {
    client: Client,
    organization_id: Uuid,
}

impl Activities {
    pub(crate) fn new(client: Client, organization_id: Uuid) -> Self {
        Self {
            client,
            organization_id,
        }
    }

    /// Activities in the window `query` gives (all when empty).
    pub async fn list(&self, query: ActivityListQuery) -> Result<Response<Vec<Activity>>, Error> {
        let path = OrganizationPath {
            organization_id: self.organization_id,
        };
        let request = Request::<ActivityGetList>::new(path, ()).with_query(query);
        self.client.send(request).await
    }

    /// One activity.
    pub async fn get(&self, activity_id: impl Into<String>) -> Result<Response<Activity>, Error> {
        let path = ActivityPath {
            organization_id: self.organization_id,
            activity_id: activity_id.into(),
        };
        self.client
            .send(Request::<ActivityGet>::new(path, ()))
            .await
    }
}
