"""The words of this feature: intervention types on the statutory ladder, rules, statuses. Pure.

Types follow "Working together to improve school attendance" (statutory since August 2024): the
ladder runs from expecting and following up absence (stage 1), through meeting families and
referring to support (2), formal support (4), to legal steps (5). The software records what a
person did at every stage; it never takes a legal step itself.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InterventionType:
    key: str
    label: str
    stage: int  # rung of the statutory ladder (see ../shared/domain/attendance.md)
    contact: bool  # counts as contact with the family (clears "first-day contact due")
    legal: bool = False  # a legal step: recorded, never issued by the software


INTERVENTION_TYPES: dict[str, InterventionType] = {t.key: t for t in (
    InterventionType("first_day_call", "First-day call", 1, True),
    InterventionType("text", "Text message", 1, True),
    InterventionType("letter", "Letter", 1, True),
    InterventionType("attendance_meeting", "Attendance meeting", 2, True),
    InterventionType("home_visit", "Home visit", 2, True),
    InterventionType("walking_bus_place", "Walking bus place", 2, False),
    InterventionType("parent_group_invitation", "Parent group invitation", 2, True),
    InterventionType("early_help_referral", "Early-help referral", 2, False),
    InterventionType("attendance_contract", "Attendance contract", 4, True),
    InterventionType("notice_to_improve", "Notice to improve", 5, True, legal=True),
    InterventionType("penalty_notice", "Penalty notice (recorded)", 5, False, legal=True),
    InterventionType("education_supervision_order", "Education supervision order", 5, False, legal=True),
    InterventionType("prosecution_referral", "Prosecution referral", 5, False, legal=True),
    InterventionType("other", "Other", 1, False),
)}

CONTACT_TYPES = frozenset(k for k, t in INTERVENTION_TYPES.items() if t.contact)

# A notice to improve gives an improvement period of 3 to 6 weeks (national framework).
IMPROVEMENT_WEEKS_MIN, IMPROVEMENT_WEEKS_MAX = 3, 6


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    next_step: str  # the suggested next step on its tasks: support first, never a sanction


RULES: dict[str, Rule] = {r.key: r for r in (
    Rule("first_day_contact", "First-day contact due",
         "Contact the family today: call the first contact, then the next if there is no answer. Ask "
         "whether all is well and whether any help is needed, and log the call. If nobody can be reached, "
         "follow the school's safeguarding procedure and tell the pupil's social worker if they have one."),
    Rule("n_code_overdue", "Reason for absence not established",
         "Find out the reason for the absence and recode the N mark: a reason must be established within "
         "5 school days, and an absence with no reason found becomes O. Offer help when you speak to the family."),
    Rule("consecutive_absence", "Several school days absent in a row",
         "Contact the family to check that the child is safe and well and to offer support. If you cannot "
         "make contact, consider a home visit: continued absence is a safeguarding matter."),
    Rule("persistent_absence", "Now persistently absent",
         "Invite the family to an attendance meeting to understand the barriers and agree support together; "
         "consider an early-help referral and add the pupil to the next targeting meeting."),
    Rule("severe_absence", "Now severely absent",
         "Meet the family soon to agree a support plan; consider an early-help referral or other "
         "multi-agency support, and raise the pupil at the next targeting meeting with the local authority."),
    Rule("attendance_drop", "Attendance falling",
         "Talk to the family early to find out what has changed and offer help before a pattern sets in."),
    Rule("monday_friday", "Monday and Friday absences",
         "Talk to the family about the pattern of Monday and Friday absences, listen for barriers "
         "(routines, transport, wellbeing) and offer help."),
    Rule("penalty_threshold", "Penalty-notice threshold reached",
         "A person must CONSIDER whether a penalty notice is appropriate under the national framework; it is "
         "never automatic. First check that support has been offered (meeting, early help, attendance "
         "contract) and whether a notice to improve would be the better step."),
    Rule("referral_review", "Early-help review due",
         "Prepare for the early-help review: check attendance since the last review, talk to the lead "
         "practitioner and record the review when it has taken place."),
)}

# Rules evaluated over the register (referral_review comes from the clock, not the register).
REGISTER_RULES = tuple(k for k in RULES if k != "referral_review")

TASK_STATUSES = ("open", "done", "dismissed")

# Early-help referral lifecycle; every move not listed here is refused with a clear error.
REFERRAL_STATUSES = ("draft", "submitted", "accepted", "declined", "closed", "withdrawn")
REFERRAL_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"submitted", "withdrawn"}),
    "submitted": frozenset({"accepted", "declined", "withdrawn"}),
    "accepted": frozenset({"closed"}),
    "declined": frozenset({"closed"}),
    "closed": frozenset(),
    "withdrawn": frozenset(),
}
CONSENT_METHODS = ("in person", "phone", "written", "email", "other")
REFERRAL_OUTCOMES = ("needs met", "stepped down to school support", "stepped up to social care",
                     "family withdrew consent", "moved away", "declined by early help", "other")
REVIEW_STATUSES = ("scheduled", "done", "cancelled")

# Values a letter may be given besides its pupils and sender (each kind says which it needs).
LETTER_VALUES = ("meeting_at", "place", "improvement_weeks", "review_date", "family_actions")
