"""ORM models; importing this module registers every table on ``Base.metadata``."""

from nexuslims_kernel.db.base import Base
from nexuslims_kernel.db.models.api_tokens import ApiToken
from nexuslims_kernel.db.models.calendars import HarvestState, Reservation
from nexuslims_kernel.db.models.curation import DatasetCuration, RecordCuration, RecordVersion
from nexuslims_kernel.db.models.files import ExtractionCache, IndexedDir, IndexedFile
from nexuslims_kernel.db.models.fixity import FixityCheck
from nexuslims_kernel.db.models.instruments import Instrument
from nexuslims_kernel.db.models.meta import FacilityMeta
from nexuslims_kernel.db.models.people import Group, Person, Project, memberships
from nexuslims_kernel.db.models.records import Activity, Dataset, Record
from nexuslims_kernel.db.models.sessions import InstrumentSession, SessionEvent

__all__ = [
    "Activity",
    "ApiToken",
    "Base",
    "Dataset",
    "DatasetCuration",
    "ExtractionCache",
    "FacilityMeta",
    "FixityCheck",
    "Group",
    "HarvestState",
    "IndexedDir",
    "IndexedFile",
    "Instrument",
    "InstrumentSession",
    "Person",
    "Project",
    "Record",
    "RecordCuration",
    "RecordVersion",
    "Reservation",
    "SessionEvent",
    "memberships",
]
