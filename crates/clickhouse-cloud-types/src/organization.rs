//! Organizations and what they carry.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Timestamp;

string_enum! {
    /// A cloud provider.
    pub enum CloudProvider {
        /// Google Cloud.
        Gcp = "gcp",
        /// Amazon Web Services.
        Aws = "aws",
        /// Microsoft Azure.
        Azure = "azure",
    }
}

string_enum! {
    /// A cloud region, in its provider's spelling.
    pub enum Region {
        /// AWS Tokyo.
        ApNortheast1 = "ap-northeast-1",
        /// AWS Seoul.
        ApNortheast2 = "ap-northeast-2",
        /// AWS Mumbai.
        ApSouth1 = "ap-south-1",
        /// AWS Singapore.
        ApSoutheast1 = "ap-southeast-1",
        /// AWS Sydney.
        ApSoutheast2 = "ap-southeast-2",
        /// AWS Canada.
        CaCentral1 = "ca-central-1",
        /// AWS Frankfurt.
        EuCentral1 = "eu-central-1",
        /// AWS Ireland.
        EuWest1 = "eu-west-1",
        /// AWS London.
        EuWest2 = "eu-west-2",
        /// AWS Tel Aviv.
        IlCentral1 = "il-central-1",
        /// AWS N. Virginia.
        UsEast1 = "us-east-1",
        /// AWS Ohio.
        UsEast2 = "us-east-2",
        /// AWS Oregon.
        UsWest2 = "us-west-2",
        /// GCP South Carolina.
        UsEast1Gcp = "us-east1",
        /// GCP Iowa.
        UsCentral1 = "us-central1",
        /// GCP London.
        EuropeWest2 = "europe-west2",
        /// GCP Netherlands.
        EuropeWest4 = "europe-west4",
        /// GCP Singapore.
        AsiaSoutheast1 = "asia-southeast1",
        /// GCP Tokyo.
        AsiaNortheast1 = "asia-northeast1",
        /// Azure East US.
        Eastus = "eastus",
        /// Azure East US 2.
        Eastus2 = "eastus2",
        /// Azure West US 3.
        Westus3 = "westus3",
        /// Azure Germany West Central.
        Germanywestcentral = "germanywestcentral",
        /// Azure Central US.
        Centralus = "centralus",
    }
}

string_enum! {
    /// State of a BYOC infrastructure.
    pub enum ByocState {
        /// Ready for services.
        InfraReady = "infra-ready",
        /// Being set up.
        InfraProvisioning = "infra-provisioning",
        /// Torn down.
        InfraTerminated = "infra-terminated",
    }
}

/// An organization: the owner of services and API keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct Organization {
    /// The organization's UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_uuid()")
    )]
    pub id: Option<Uuid>,
    /// When it was created.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::timestamp::option"
    )]
    #[cfg_attr(
        feature = "proptest",
        proptest(strategy = "crate::strategy::opt_timestamp()")
    )]
    pub created_at: Option<Timestamp>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Private endpoints registered for the organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_endpoints: Option<Vec<OrganizationPrivateEndpoint>>,
    /// Bring-your-own-cloud set-ups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byoc_config: Option<Vec<ByocConfig>>,
    /// Whether services may collect crash reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_core_dumps: Option<bool>,
}

/// A private endpoint of an organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct OrganizationPrivateEndpoint {
    /// The endpoint's identifier at the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Provider hosting the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_provider: Option<CloudProvider>,
    /// Region of the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// A bring-your-own-cloud infrastructure of an organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct ByocConfig {
    /// Identifier of the set-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Infrastructure state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ByocState>,
    /// Cloud account name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Region where services can be created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_id: Option<Region>,
    /// Provider of the region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_provider: Option<CloudProvider>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// The body that changes an organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct OrganizationPatchRequest {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Private endpoints to remove and add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_endpoints: Option<OrganizationPrivateEndpointsPatch>,
    /// Allow or forbid crash reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_core_dumps: Option<bool>,
}

/// Changes to an organization's private endpoints: `remove` runs first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct OrganizationPrivateEndpointsPatch {
    /// Endpoints to add. Deprecated by the service: endpoints are now set per
    /// service.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("deprecated" = true)))]
    pub add: Option<Vec<OrganizationPatchPrivateEndpoint>>,
    /// Endpoints to remove.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove: Option<Vec<OrganizationPatchPrivateEndpoint>>,
}

/// A private endpoint named in an organization update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
#[serde(default, rename_all = "camelCase")]
pub struct OrganizationPatchPrivateEndpoint {
    /// The endpoint's identifier at the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Provider hosting the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_provider: Option<CloudProvider>,
    /// Region of the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}
