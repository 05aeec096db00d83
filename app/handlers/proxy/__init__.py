"""Proxy-handling (代办): the catalogue, stations and their free slots, bookings, cases, and the chat.

One name per domain: app/models/proxy.py, app/api/proxy*.py, app/cli/proxy.py,
workers/proxy.py and tests/handlers/proxy/ all say "proxy". Modules, lowest first
(each imports only the ones above it, so there is no cycle):

- ``errors``      ProxyError(DomainError) and BookingError, SlotError, CaseError, CatalogueError
- ``common``      handling roles, direct channels, booking/case codes, how days and slots are written
- ``targets``     where a message to a resident goes (their chat, else their group)
- ``catalogue_entries``  what a valid catalogue entry is (API, import and file share it)
- ``catalogue``   the catalogue file, editing items, finding an item in a message
- ``catalogue_import``   spreadsheet import and export
- ``availability``  day plans from hours, closures and the working-day calendar; free slots
- ``stations``    creating stations, their weekly plan and closed dates (records only)
- ``reminders``   the two reminders of a booking, scheduled as the job "proxy.remind"
- ``bookings``    book, cancel, reschedule (capacity and idempotency), close_day
- ``cases``       the case lifecycle, the resident's notice, the overdue sweep (→ sla.roster)
- ``desk``        staff at the station: check-in, no-show, hand-over, the visit that opens a case
- ``views``       JSON views of bookings, stations and cases; the resident's progress line
- ``chat_times``, ``chat_offers``, ``chat_changes``, ``chat``   the conversation; ``chat.CHAT``
- ``demo``        the demo community's catalogue and station

Two cuts differ from the restructure plan (ARCHITECTURE §4.3): the chat is four
modules because booking, rescheduling and cancelling all offer slots (one shared
module below them instead of a cycle), and the catalogue's validation has its own
module so the file, the API and the import use one set of rules.
"""
