"""Every domain's models, imported in one place so Alembic and the tests see the whole schema."""
from registry.audit.models import AuditEvent  # noqa: F401
from registry.auth.models import LoginThrottle, User  # noqa: F401
from registry.codes.models import IscoGroup  # noqa: F401
from registry.matching.models import DuplicateCandidate, PersonMatchKey  # noqa: F401  (and the keys flush hook)
from registry.offices.models import Office  # noqa: F401
from registry.people.models import Person  # noqa: F401
from registry.recruitment import indexes  # noqa: F401  (the shortlist's indexes on registration and person)
from registry.recruitment.models import (  # noqa: F401
    Agency, Complaint, ComplaintChange, SelectionStep, WorkerReturn,
)
from registry.referrals.models import Employer, Referral, Service, Vacancy  # noqa: F401
from registry.registration.models import Registration  # noqa: F401
from registry.registration.numbering import RegistrationSequence  # noqa: F401
from registry.slips.models import PrivateKey, Revocation, SigningKey, SlipPrint  # noqa: F401
from registry.sync.models import (  # noqa: F401
    InboxEntry, OfficeCredential, OfficeSyncHealth, OutboxEntry, SeenNonce, SyncConflict, SyncState,
)
