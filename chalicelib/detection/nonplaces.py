"""Locations that say "not travelling": virtual meetings, rooms, home, URLs, dial-in numbers, TBD.

Why: most calendar locations are "Microsoft Teams Meeting", a meeting-room name or a dial-in string;
rooms are often named after cities ("Room Paris", "Salle Lyon"). These must never become a country,
so they are cut out of the text before place resolution and recognised by ``is_non_place``.
"""

from __future__ import annotations

import re

URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*|\S+@\S+\.\w+")
PHONE = re.compile(r"\+?\d[\d\s()./-]{6,}\d[#,\d]*(?:\s*,?\s*(?:PIN|pin|code|Code|ID|id)\s*:?\s*\d+#?)?")
ROOM = re.compile(
    r"(?i)\b(?:(?:conference|meeting|board|huddle)\s*room|besprechungsraum|konferenzraum|sitzungssaal"
    r"|salle(?:\s+de\s+r[ée]union)?|sala(?:\s+riunioni|\s+de\s+reuniones)?|zaal|vergaderzaal|raum|room"
    r"|pok[oó]j|desk|floor|etage|stock|building|bldg|geb[äa]ude)\b(?:\s+(?:[\w.-]+))?"
)
_VIRTUAL = re.compile(
    r"(?i)\b(?:microsoft teams(?: meeting)?|teams(?: meeting| call)?|zoom(?: meeting)?|google meet"
    r"|meet\.google|hangouts|webex|skype|gotomeeting|whereby|jitsi|bluejeans|amazon chime|chime|dial-?in"
    r"|conference id"
    r"|meeting id|online|virtual|remote|home ?office|at home|wfh|work(?:ing)? from home|mobiles arbeiten"
    r"|télétravail|teletravail|teletrabajo|smart working|thuiswerk(?:en)?|praca zdalna|tbd|tba|tbc"
    r"|to be (?:confirmed|decided|announced))\b"
)
_LEADING_ROOM = re.compile(
    r"(?i)^\s*(?:room|raum|salle|sala|zaal|conference room|meeting room|besprechungsraum"
    r"|konferenzraum|boardroom|desk|floor|building|bldg)\b"
)


def strip_non_places(text: str) -> str:
    """``text`` without URLs, phone/PIN numbers, room names and virtual-meeting words."""
    text = PHONE.sub(" ", URL.sub(" ", text))
    return _VIRTUAL.sub(" ", ROOM.sub(" ", text))


def is_non_place(text: str) -> bool:
    """True for locations that say "not travelling": virtual meetings, home, rooms, bare URLs/phones."""
    cleaned = PHONE.sub(" ", URL.sub(" ", text or ""))
    if not cleaned.strip(" ,;:-()[]"):
        return True
    return _VIRTUAL.search(cleaned) is not None or _LEADING_ROOM.search(cleaned) is not None
