"""One import that loads every feature's tables (for create_app, Alembic and tests)."""
from outreach.schools.models import Contact, Pupil, PupilContact, School, Trust  # noqa: F401
from outreach.registers.models import ImportBatch, Mark, MarkChange  # noqa: F401
from outreach.attendance.models import FigureVersion, PupilWeek  # noqa: F401
from outreach.messaging.models import (InboundMessage, InboxMessage, MessageTemplate,  # noqa: F401
                                       MessageTemplateVariant, OptOut, OutboxMessage, SchoolMessagingSettings)
from outreach.core.accounts.models import ApiToken, LoginThrottle, User, user_schools  # noqa: F401
from outreach.core.audit.models import AuditEvent, AuditEventPupil  # noqa: F401
from outreach.interventions.models import (Intervention, InterventionPupil, Referral, ReferralEvent,  # noqa: F401
                                           ReferralReview, RuleMessage, RuleSettings, Task)
from outreach.core.clock_lock import ClockLease  # noqa: F401
from outreach.digests.models import Digest  # noqa: F401
from outreach.walking_bus.models import (Ambassador, AmbassadorAbsence, RotaAssignment, RotaWeek,  # noqa: F401
                                         WalkingBusAlert, WalkingBusEnrolment, WalkingBusRoute, WalkingBusStop,
                                         WalkingBusWalk, WalkingBusWalkPupil)
from outreach.parent_groups.models import (ParentGroup, ParentGroupAttendance, ParentGroupInvitation,  # noqa: F401
                                           ParentGroupMeeting, ParentGroupMember)
from outreach.registers.upload_models import ImportUpload  # noqa: F401
