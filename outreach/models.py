"""One import that loads every feature's tables (for create_app, Alembic and tests)."""
from outreach.schools.models import Contact, Pupil, PupilContact, School, Trust  # noqa: F401
from outreach.registers.models import ImportBatch, Mark, MarkChange  # noqa: F401
from outreach.attendance.models import PupilWeek  # noqa: F401
from outreach.messaging.models import (MessageTemplate, MessageTemplateVariant, OptOut, OutboxMessage,  # noqa: F401
                                       SchoolMessagingSettings)
from outreach.core.accounts.models import ApiToken, LoginThrottle, User, user_schools  # noqa: F401
from outreach.core.audit.models import AuditEvent, AuditEventPupil  # noqa: F401
from outreach.interventions.models import (Intervention, InterventionPupil, Referral, ReferralEvent,  # noqa: F401
                                           ReferralReview, RuleMessage, RuleSettings, Task)
from outreach.registers.upload_models import ImportUpload  # noqa: F401
