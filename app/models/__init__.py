"""All models; importing this package registers every table on ``Base.metadata``."""
from app.models.alerts import Alert, AlertKind, AlertRecipient  # noqa: F401
from app.models.archive import message_archive  # noqa: F401
from app.models.audit import AuditLog  # noqa: F401
from app.models.auth import ApiToken, StaffInvite  # noqa: F401
from app.models.base import Base  # noqa: F401
from app.models.calendar import CalendarDay  # noqa: F401
from app.models.deliberation import (  # noqa: F401
    Participant,
    Topic,
    TopicComment,
    TopicEvent,
    TopicTask,
    Vote,
)
from app.models.events import CheckIn, Event, EventCapacity, Signup  # noqa: F401
from app.models.governance import (  # noqa: F401
    Claim,
    Contribution,
    Need,
    PartnerUnit,
    Project,
    ProjectUpdate,
    Resource,
    Suggestion,
)
from app.models.groups import GroupKind, ResidentGroup  # noqa: F401
from app.models.messages import Direction, Message, OutboundStatus  # noqa: F401
from app.models.org import Building, Community, Department, Grid, Street  # noqa: F401
from app.models.people import (  # noqa: F401
    Channel,
    IdentityKind,
    Resident,
    ResidentIdentity,
    Role,
    Staff,
    StaffRole,
)
from app.models.proxy import (  # noqa: F401
    Booking,
    Case,
    CaseEvent,
    ServiceItem,
    SlotLoad,
    Station,
    StationClosure,
    StationHours,
)
from app.models.reports import ClockDay, RequestDay, RollupDay, RollupState  # noqa: F401
from app.models.requests import PossibleRequest, RequestEvent, ServiceRequest  # noqa: F401
from app.models.roster import DutyShift, ShiftSwap  # noqa: F401
from app.models.servicemap import BuildingLocation, MapStation  # noqa: F401
from app.models.sla import ReplyClock  # noqa: F401
from app.models.uploads import Upload  # noqa: F401
from app.models.volunteers import HoursEntry, MemberProject, MicroWish, PartyMember, VolunteerProject  # noqa: F401
