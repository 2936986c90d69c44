//! The event types Cost Katana sends, and their categories.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! event_types {
    ($($variant:ident => $name:literal, $category:ident;)*) => {
        /// The type of a Cost Katana event.
        ///
        /// Covers the 57 types the live API accepts. The docs' alias
        /// spellings `savings.milestone_reached` and `usage.spike_detected`
        /// parse to [`EventType::SavingsMilestone`] and [`EventType::UsageSpike`].
        /// Any other string becomes [`EventType::Other`]: unknown types are
        /// delivered, never rejected. `Display` prints the canonical name and
        /// `FromStr` never fails, so the two round-trip.
        ///
        /// ```
        /// use costkatana_webhooks::{Category, EventType};
        ///
        /// let ty: EventType = "budget.exceeded".parse().unwrap();
        /// assert_eq!(ty, EventType::BudgetExceeded);
        /// assert_eq!(ty.category(), Category::Budget);
        /// assert_eq!(ty.to_string(), "budget.exceeded");
        ///
        /// let alias: EventType = "savings.milestone_reached".parse().unwrap();
        /// assert_eq!(alias, EventType::SavingsMilestone);
        ///
        /// let future: EventType = "cost.forecast_ready".parse().unwrap();
        /// assert_eq!(future, EventType::Other("cost.forecast_ready".into()));
        /// assert_eq!(future.category(), Category::Cost);
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EventType {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
            /// A type this version does not know, carrying its string.
            Other(String),
        }

        impl EventType {
            /// Every known type, in the order of the protocol's list.
            pub const KNOWN: [EventType; 57] = [$(EventType::$variant),*];

            /// The canonical name, such as `cost.alert`.
            ///
            /// ```
            /// use costkatana_webhooks::EventType;
            /// assert_eq!(EventType::UsageSpike.as_str(), "usage.spike");
            /// ```
            pub fn as_str(&self) -> &str {
                match self {
                    $(EventType::$variant => $name,)*
                    EventType::Other(name) => name,
                }
            }

            /// The category: the text before the first dot.
            ///
            /// ```
            /// use costkatana_webhooks::{Category, EventType};
            /// assert_eq!(EventType::SecurityAlert.category(), Category::Security);
            /// ```
            pub fn category(&self) -> Category {
                match self {
                    $(EventType::$variant => Category::$category,)*
                    EventType::Other(name) => Category::from_name(name.split('.').next().unwrap_or_default()),
                }
            }

            fn from_name(name: &str) -> EventType {
                match name {
                    $($name => EventType::$variant,)*
                    "savings.milestone_reached" => EventType::SavingsMilestone,
                    "usage.spike_detected" => EventType::UsageSpike,
                    other => EventType::Other(other.to_owned()),
                }
            }
        }
    };
}

macro_rules! categories {
    ($($variant:ident => $name:literal;)*) => {
        /// The category of an event type: the text before the first dot.
        ///
        /// ```
        /// use costkatana_webhooks::Category;
        ///
        /// assert_eq!(Category::Subscription.as_str(), "subscription");
        /// assert_eq!("security".parse::<Category>().unwrap(), Category::Security);
        /// assert_eq!(Category::from_name("billing"), Category::Other("billing".into()));
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Category {
            $(
                #[doc = concat!("`", $name, ".*`")]
                $variant,
            )*
            /// A category this version does not know.
            Other(String),
        }

        impl Category {
            /// Every known category.
            pub const KNOWN: [Category; 21] = [$(Category::$variant),*];

            /// The category's name, such as `cost`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Category::$variant => $name,)*
                    Category::Other(name) => name,
                }
            }

            /// The category called `name`; unknown names become `Other`.
            pub fn from_name(name: &str) -> Category {
                match name {
                    $($name => Category::$variant,)*
                    other => Category::Other(other.to_owned()),
                }
            }
        }
    };
}

event_types! {
    CostAlert => "cost.alert", Cost;
    CostThresholdExceeded => "cost.threshold_exceeded", Cost;
    CostSpikeDetected => "cost.spike_detected", Cost;
    CostAnomalyDetected => "cost.anomaly_detected", Cost;
    BudgetWarning => "budget.warning", Budget;
    BudgetExceeded => "budget.exceeded", Budget;
    OptimizationCompleted => "optimization.completed", Optimization;
    OptimizationFailed => "optimization.failed", Optimization;
    OptimizationSuggested => "optimization.suggested", Optimization;
    OptimizationApplied => "optimization.applied", Optimization;
    SavingsMilestone => "savings.milestone", Savings;
    ModelPerformanceDegraded => "model.performance_degraded", Model;
    ModelErrorRateHigh => "model.error_rate_high", Model;
    ModelLatencyHigh => "model.latency_high", Model;
    ModelQuotaWarning => "model.quota_warning", Model;
    ModelQuotaExceeded => "model.quota_exceeded", Model;
    UsageSpike => "usage.spike", Usage;
    UsagePatternChanged => "usage.pattern_changed", Usage;
    TokenLimitWarning => "token.limit_warning", Token;
    TokenLimitExceeded => "token.limit_exceeded", Token;
    ApiRateLimitWarning => "api.rate_limit_warning", Api;
    ExperimentStarted => "experiment.started", Experiment;
    ExperimentCompleted => "experiment.completed", Experiment;
    ExperimentFailed => "experiment.failed", Experiment;
    TrainingStarted => "training.started", Training;
    TrainingCompleted => "training.completed", Training;
    TrainingFailed => "training.failed", Training;
    WorkflowStarted => "workflow.started", Workflow;
    WorkflowCompleted => "workflow.completed", Workflow;
    WorkflowFailed => "workflow.failed", Workflow;
    WorkflowStepCompleted => "workflow.step_completed", Workflow;
    SecurityAlert => "security.alert", Security;
    ComplianceViolation => "compliance.violation", Compliance;
    DataPrivacyAlert => "data.privacy_alert", Data;
    ModerationBlocked => "moderation.blocked", Moderation;
    SystemError => "system.error", System;
    ServiceDegradation => "service.degradation", Service;
    MaintenanceScheduled => "maintenance.scheduled", Maintenance;
    AgentTaskCompleted => "agent.task_completed", Agent;
    AgentTaskFailed => "agent.task_failed", Agent;
    AgentInsightGenerated => "agent.insight_generated", Agent;
    QualityDegraded => "quality.degraded", Quality;
    QualityImproved => "quality.improved", Quality;
    QualityThresholdViolated => "quality.threshold_violated", Quality;
    SubscriptionCreated => "subscription.created", Subscription;
    SubscriptionUpgraded => "subscription.upgraded", Subscription;
    SubscriptionDowngraded => "subscription.downgraded", Subscription;
    SubscriptionCanceled => "subscription.canceled", Subscription;
    SubscriptionReactivated => "subscription.reactivated", Subscription;
    SubscriptionTrialStarted => "subscription.trial_started", Subscription;
    SubscriptionTrialEnding => "subscription.trial_ending", Subscription;
    SubscriptionTrialExpired => "subscription.trial_expired", Subscription;
    SubscriptionPaymentFailed => "subscription.payment_failed", Subscription;
    SubscriptionPaymentSucceeded => "subscription.payment_succeeded", Subscription;
    SubscriptionInvoiceCreated => "subscription.invoice_created", Subscription;
    SubscriptionUsageAlert => "subscription.usage_alert", Subscription;
    SubscriptionLimitExceeded => "subscription.limit_exceeded", Subscription;
}

categories! {
    Cost => "cost";
    Budget => "budget";
    Optimization => "optimization";
    Savings => "savings";
    Model => "model";
    Usage => "usage";
    Token => "token";
    Api => "api";
    Experiment => "experiment";
    Training => "training";
    Workflow => "workflow";
    Security => "security";
    Compliance => "compliance";
    Data => "data";
    Moderation => "moderation";
    System => "system";
    Service => "service";
    Maintenance => "maintenance";
    Agent => "agent";
    Quality => "quality";
    Subscription => "subscription";
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(EventType::from_name(s))
    }
}

impl From<&str> for EventType {
    fn from(s: &str) -> Self {
        EventType::from_name(s)
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(EventType::from_name(&name))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Category::from_name(s))
    }
}
