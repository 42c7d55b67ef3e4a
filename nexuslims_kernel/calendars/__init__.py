"""Calendars: sessions and their context from NEMO and iCalendar.

A harvester kind per calendar system (:mod:`.registry`: ``nemo``, ``ical``,
plug-ins), chosen per instrument by ``instruments.harvester``. Harvesters only
read (:mod:`.nemo`, :mod:`.ical`); :mod:`.store` writes through the sessions
layer (:mod:`nexuslims_kernel.sessions.external`); :mod:`.match` gives logged
and inferred sessions the reservation that overlaps them most.
"""

from nexuslims_kernel.calendars.registry import kinds, register
from nexuslims_kernel.calendars.run import HarvestReport, harvest, harvest_loop

__all__ = ["HarvestReport", "harvest", "harvest_loop", "kinds", "register"]
