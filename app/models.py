"""Imports every model so that Base.metadata is complete (alembic, tests)."""

from app.audit.models import AuditEntry, PersonalDataAccess
from app.auth.models import AuthToken, LoginAttempt, User, UserPark
from app.casework.models import Task
from app.firms.models import Contact, Firm, FirmName, FirmStatusPeriod, FirmTag, Membership
from app.indicators.models import Award, FactObservation, FirmYear, Incident
from app.recognitions.models import EvidenceFile, Recognition
from app.reference.models import Area, Carrier, District, Industry, Park, PlanTarget
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
    "FactObservation",
    "Firm",
    "FirmName",
    "FirmStatusPeriod",
    "FirmTag",
    "FirmYear",
    "Incident",
    "Industry",
    "LoginAttempt",
    "Membership",
    "Park",
    "PersonalDataAccess",
    "PlanTarget",
    "Recognition",
    "RuleSetting",
    "Task",
    "TierDecisionRow",
    "User",
    "UserPark",
]
