"""Contains all the data models used in inputs/outputs"""

from .api_key import ApiKey
from .api_key_create import ApiKeyCreate
from .api_key_create_scope_type_1 import ApiKeyCreateScopeType1
from .api_key_create_scope_type_2_type_1 import ApiKeyCreateScopeType2Type1
from .api_key_create_scope_type_3_type_1 import ApiKeyCreateScopeType3Type1
from .api_key_created import ApiKeyCreated
from .api_key_created_scope import ApiKeyCreatedScope
from .api_key_page import ApiKeyPage
from .api_key_scope import ApiKeyScope
from .attempt_log import AttemptLog
from .attempt_log_error_kind_type_1 import AttemptLogErrorKindType1
from .attempt_log_error_kind_type_2_type_1 import AttemptLogErrorKindType2Type1
from .attempt_log_error_kind_type_3_type_1 import AttemptLogErrorKindType3Type1
from .attempt_log_page import AttemptLogPage
from .delivery import Delivery
from .delivery_page import DeliveryPage
from .delivery_status import DeliveryStatus
from .delivery_with_attempts import DeliveryWithAttempts
from .event import Event
from .event_page import EventPage
from .field_error import FieldError
from .get_tenant_stats_bucket import GetTenantStatsBucket
from .get_webhook_stats_bucket import GetWebhookStatsBucket
from .github_source_create import GithubSourceCreate
from .github_source_create_config import GithubSourceCreateConfig
from .health import Health
from .hmac_source_create import HmacSourceCreate
from .hmac_source_create_config import HmacSourceCreateConfig
from .hmac_source_create_config_algorithm import HmacSourceCreateConfigAlgorithm
from .hmac_source_create_config_encoding import HmacSourceCreateConfigEncoding
from .http_webhook_create import HttpWebhookCreate
from .http_webhook_create_headers import HttpWebhookCreateHeaders
from .inbound_request import InboundRequest
from .inbound_request_check_type_1 import InboundRequestCheckType1
from .inbound_request_check_type_2_type_1 import InboundRequestCheckType2Type1
from .inbound_request_check_type_3_type_1 import InboundRequestCheckType3Type1
from .inbound_request_headers import InboundRequestHeaders
from .inbound_request_matched_type_1 import InboundRequestMatchedType1
from .inbound_request_matched_type_2_type_1 import InboundRequestMatchedType2Type1
from .inbound_request_matched_type_3_type_1 import InboundRequestMatchedType3Type1
from .inbound_request_page import InboundRequestPage
from .inbound_request_status import InboundRequestStatus
from .ingest_accepted import IngestAccepted
from .ingest_accepted_status import IngestAcceptedStatus
from .ingest_handshake_response_200_type_1 import IngestHandshakeResponse200Type1
from .ingest_response_200_type_1 import IngestResponse200Type1
from .linkedin_source_create import LinkedinSourceCreate
from .linkedin_source_create_config import LinkedinSourceCreateConfig
from .list_deliveries_status import ListDeliveriesStatus
from .list_source_requests_status import ListSourceRequestsStatus
from .list_webhook_logs_status import ListWebhookLogsStatus
from .login_request import LoginRequest
from .meta_source_create import MetaSourceCreate
from .meta_source_create_config import MetaSourceCreateConfig
from .none_source_create import NoneSourceCreate
from .none_source_create_config import NoneSourceCreateConfig
from .openapi_response_200 import OpenapiResponse200
from .portal_session import PortalSession
from .portal_session_request import PortalSessionRequest
from .problem import Problem
from .problem_type import ProblemType
from .publish_accepted import PublishAccepted
from .publish_request import PublishRequest
from .readiness import Readiness
from .readiness_database import ReadinessDatabase
from .readiness_migrations import ReadinessMigrations
from .readiness_status import ReadinessStatus
from .recover_request import RecoverRequest
from .recovery import Recovery
from .recovery_status import RecoveryStatus
from .register_request import RegisterRequest
from .registration import Registration
from .registration_tenant import RegistrationTenant
from .registration_user import RegistrationUser
from .relay_delivery import RelayDelivery
from .relay_listener import RelayListener
from .relay_outcome import RelayOutcome
from .relay_outcome_error_kind import RelayOutcomeErrorKind
from .relay_outcome_headers import RelayOutcomeHeaders
from .relay_release import RelayRelease
from .relay_status import RelayStatus
from .relay_take import RelayTake
from .relay_taken import RelayTaken
from .relay_webhook_create import RelayWebhookCreate
from .relay_webhook_create_headers import RelayWebhookCreateHeaders
from .rotate_secret_request import RotateSecretRequest
from .shopify_source_create import ShopifySourceCreate
from .shopify_source_create_config import ShopifySourceCreateConfig
from .slack_source_create import SlackSourceCreate
from .slack_source_create_config import SlackSourceCreateConfig
from .source import Source
from .source_config import SourceConfig
from .source_page import SourcePage
from .source_patch import SourcePatch
from .source_patch_config import SourcePatchConfig
from .source_provider import SourceProvider
from .standard_webhooks_source_create import StandardWebhooksSourceCreate
from .standard_webhooks_source_create_config import StandardWebhooksSourceCreateConfig
from .stats import Stats
from .stats_bucket import StatsBucket
from .stats_deliveries import StatsDeliveries
from .stats_errors_by_kind import StatsErrorsByKind
from .stats_response_time_ms import StatsResponseTimeMs
from .stripe_source_create import StripeSourceCreate
from .stripe_source_create_config import StripeSourceCreateConfig
from .test_event_request import TestEventRequest
from .token import Token
from .twilio_source_create import TwilioSourceCreate
from .twilio_source_create_config import TwilioSourceCreateConfig
from .unipile_source_create import UnipileSourceCreate
from .unipile_source_create_config import UnipileSourceCreateConfig
from .verify_request import VerifyRequest
from .verify_request_headers_type_0 import VerifyRequestHeadersType0
from .verify_request_method_type_1 import VerifyRequestMethodType1
from .verify_request_method_type_2_type_1 import VerifyRequestMethodType2Type1
from .verify_request_method_type_3_type_1 import VerifyRequestMethodType3Type1
from .verify_result import VerifyResult
from .verify_result_check_type_1 import VerifyResultCheckType1
from .verify_result_check_type_2_type_1 import VerifyResultCheckType2Type1
from .verify_result_check_type_3_type_1 import VerifyResultCheckType3Type1
from .verify_result_matched_type_1 import VerifyResultMatchedType1
from .verify_result_matched_type_2_type_1 import VerifyResultMatchedType2Type1
from .verify_result_matched_type_3_type_1 import VerifyResultMatchedType3Type1
from .verify_result_status import VerifyResultStatus
from .viber_source_create import ViberSourceCreate
from .viber_source_create_config import ViberSourceCreateConfig
from .webhook import Webhook
from .webhook_disabled_reason_type_1 import WebhookDisabledReasonType1
from .webhook_disabled_reason_type_2_type_1 import WebhookDisabledReasonType2Type1
from .webhook_disabled_reason_type_3_type_1 import WebhookDisabledReasonType3Type1
from .webhook_headers import WebhookHeaders
from .webhook_health import WebhookHealth
from .webhook_health_state import WebhookHealthState
from .webhook_kind import WebhookKind
from .webhook_page import WebhookPage
from .webhook_patch import WebhookPatch
from .webhook_patch_headers import WebhookPatchHeaders
from .webhook_with_secret import WebhookWithSecret

__all__ = (
    "ApiKey",
    "ApiKeyCreate",
    "ApiKeyCreateScopeType1",
    "ApiKeyCreateScopeType2Type1",
    "ApiKeyCreateScopeType3Type1",
    "ApiKeyCreated",
    "ApiKeyCreatedScope",
    "ApiKeyPage",
    "ApiKeyScope",
    "AttemptLog",
    "AttemptLogErrorKindType1",
    "AttemptLogErrorKindType2Type1",
    "AttemptLogErrorKindType3Type1",
    "AttemptLogPage",
    "Delivery",
    "DeliveryPage",
    "DeliveryStatus",
    "DeliveryWithAttempts",
    "Event",
    "EventPage",
    "FieldError",
    "GetTenantStatsBucket",
    "GetWebhookStatsBucket",
    "GithubSourceCreate",
    "GithubSourceCreateConfig",
    "Health",
    "HmacSourceCreate",
    "HmacSourceCreateConfig",
    "HmacSourceCreateConfigAlgorithm",
    "HmacSourceCreateConfigEncoding",
    "HttpWebhookCreate",
    "HttpWebhookCreateHeaders",
    "InboundRequest",
    "InboundRequestCheckType1",
    "InboundRequestCheckType2Type1",
    "InboundRequestCheckType3Type1",
    "InboundRequestHeaders",
    "InboundRequestMatchedType1",
    "InboundRequestMatchedType2Type1",
    "InboundRequestMatchedType3Type1",
    "InboundRequestPage",
    "InboundRequestStatus",
    "IngestAccepted",
    "IngestAcceptedStatus",
    "IngestHandshakeResponse200Type1",
    "IngestResponse200Type1",
    "LinkedinSourceCreate",
    "LinkedinSourceCreateConfig",
    "ListDeliveriesStatus",
    "ListSourceRequestsStatus",
    "ListWebhookLogsStatus",
    "LoginRequest",
    "MetaSourceCreate",
    "MetaSourceCreateConfig",
    "NoneSourceCreate",
    "NoneSourceCreateConfig",
    "OpenapiResponse200",
    "PortalSession",
    "PortalSessionRequest",
    "Problem",
    "ProblemType",
    "PublishAccepted",
    "PublishRequest",
    "Readiness",
    "ReadinessDatabase",
    "ReadinessMigrations",
    "ReadinessStatus",
    "RecoverRequest",
    "Recovery",
    "RecoveryStatus",
    "RegisterRequest",
    "Registration",
    "RegistrationTenant",
    "RegistrationUser",
    "RelayDelivery",
    "RelayListener",
    "RelayOutcome",
    "RelayOutcomeErrorKind",
    "RelayOutcomeHeaders",
    "RelayRelease",
    "RelayStatus",
    "RelayTake",
    "RelayTaken",
    "RelayWebhookCreate",
    "RelayWebhookCreateHeaders",
    "RotateSecretRequest",
    "ShopifySourceCreate",
    "ShopifySourceCreateConfig",
    "SlackSourceCreate",
    "SlackSourceCreateConfig",
    "Source",
    "SourceConfig",
    "SourcePage",
    "SourcePatch",
    "SourcePatchConfig",
    "SourceProvider",
    "StandardWebhooksSourceCreate",
    "StandardWebhooksSourceCreateConfig",
    "Stats",
    "StatsBucket",
    "StatsDeliveries",
    "StatsErrorsByKind",
    "StatsResponseTimeMs",
    "StripeSourceCreate",
    "StripeSourceCreateConfig",
    "TestEventRequest",
    "Token",
    "TwilioSourceCreate",
    "TwilioSourceCreateConfig",
    "UnipileSourceCreate",
    "UnipileSourceCreateConfig",
    "VerifyRequest",
    "VerifyRequestHeadersType0",
    "VerifyRequestMethodType1",
    "VerifyRequestMethodType2Type1",
    "VerifyRequestMethodType3Type1",
    "VerifyResult",
    "VerifyResultCheckType1",
    "VerifyResultCheckType2Type1",
    "VerifyResultCheckType3Type1",
    "VerifyResultMatchedType1",
    "VerifyResultMatchedType2Type1",
    "VerifyResultMatchedType3Type1",
    "VerifyResultStatus",
    "ViberSourceCreate",
    "ViberSourceCreateConfig",
    "Webhook",
    "WebhookDisabledReasonType1",
    "WebhookDisabledReasonType2Type1",
    "WebhookDisabledReasonType3Type1",
    "WebhookHeaders",
    "WebhookHealth",
    "WebhookHealthState",
    "WebhookKind",
    "WebhookPage",
    "WebhookPatch",
    "WebhookPatchHeaders",
    "WebhookWithSecret",
)
