"""Enumerations of the national database. Values are the database codes."""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = ["AgencyKind", "Category", "EvaluationGrade", "FamilyRelation", "ServiceStatus", "Sex"]


@strawberry.enum
class Sex(Enum):
    MALE = "male"
    FEMALE = "female"


@strawberry.enum(description="Cadre (elected or appointed to a term), civil servant (recruited "
                             "to a rank), or public employee (working for a public service unit "
                             "under a contract and professional title).")
class Category(Enum):
    CADRE = "cadre"
    CIVIL_SERVANT = "civil_servant"
    PUBLIC_EMPLOYEE = "public_employee"


@strawberry.enum
class ServiceStatus(Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ON_LEAVE = "on_leave"
    RETIRED = "retired"
    RESIGNED = "resigned"
    DECEASED = "deceased"


@strawberry.enum
class AgencyKind(Enum):
    MINISTRY = "ministry"
    MINISTRY_UNIT = "ministry_unit"
    PROVINCE = "province"
    PROVINCE_DEPARTMENT = "province_department"
    PUBLIC_SERVICE_UNIT = "public_service_unit"


@strawberry.enum(description="Yearly evaluation and classification of quality.")
class EvaluationGrade(Enum):
    EXCELLENT = "excellent"
    GOOD = "good"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"


@strawberry.enum(description="How a declared relative is related to the employee (form 2C): "
                             "their own side, and their spouse's (the in-laws).")
class FamilyRelation(Enum):
    FATHER = "father"
    MOTHER = "mother"
    ADOPTIVE_FATHER = "adoptive_father"
    ADOPTIVE_MOTHER = "adoptive_mother"
    SPOUSE = "spouse"
    CHILD = "child"
    SIBLING = "sibling"
    FATHER_IN_LAW = "father_in_law"
    MOTHER_IN_LAW = "mother_in_law"
    SIBLING_IN_LAW = "sibling_in_law"
