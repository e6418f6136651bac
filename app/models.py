"""Imports every model so that Base.metadata is complete (alembic, tests)."""

from app.audit.models import AuditEntry, PersonalDataAccess
from app.auth.models import AuthToken, LoginAttempt, User, UserPark
from app.casework.models import Task
from app.firms.models import Contact, Firm, FirmName, FirmStatusPeriod, FirmTag, Membership
from app.imports.models import ImportMapping, ImportRejection, ImportRun
from app.indicators.models import Award, FactObservation, FirmYear, Incident
from app.policies.models import (
    FirmPackage,
    FirmService,
    Grant,
    GrantCandidate,
    GrantRun,
    PlanItem,
    PlanNote,
    Policy,
    PolicyBudget,
    PolicyExclusion,
    PolicyPush,
    ServicePackage,
    SupportPlan,
)
from app.recognitions.models import EvidenceFile, HeldTier, HeldTiersAsOf, Recognition
from app.reference.models import Area, Carrier, District, Industry, Park, PlanTarget
from app.reports.models import ReportFigure, ReportMonth, Restatement
from app.rules.models import EvaluationRun, RuleSetting, TierDecisionRow

__all__ = [
    "Area",
    "AuditEntry",
    "AuthToken",
    "Award",
    "Carrier",
    "Contact",
    "District",
    "EvaluationRun",
    "EvidenceFile",
    "HeldTier",
    "HeldTiersAsOf",
    "FactObservation",
    "Firm",
    "FirmName",
    "FirmPackage",
    "FirmService",
    "FirmStatusPeriod",
    "FirmTag",
    "FirmYear",
    "Grant",
    "GrantCandidate",
    "GrantRun",
    "ImportMapping",
    "ImportRejection",
    "ImportRun",
    "Incident",
    "Industry",
    "LoginAttempt",
    "Membership",
    "Park",
    "PersonalDataAccess",
    "PlanItem",
    "PlanNote",
    "PlanTarget",
    "Policy",
    "PolicyBudget",
    "PolicyExclusion",
    "PolicyPush",
    "Recognition",
    "ReportFigure",
    "ReportMonth",
    "Restatement",
    "RuleSetting",
    "ServicePackage",
    "SupportPlan",
    "Task",
    "TierDecisionRow",
    "User",
    "UserPark",
]
