"""Windows checks: data at rest and backup (CONTROLS.md section H) — the disposal wipe's record.
(DISK-ENCRYPTED and BACKUP-RECENT on Windows are in windows_desk.py.)"""

from __future__ import annotations

from lgsec.checks import Ctx, Verdict, check
from lgsec.checks.common import disposal_verdict


# A Windows PC is erased the way disposal vendors do it: booted from a Linux rescue medium and
# reached by decommission.yml over SSH; its records are judged the same.
@check("WIPE-RECORDED", "windows")
def wipe_recorded_windows(ctx: Ctx) -> Verdict:
    return disposal_verdict(ctx)
