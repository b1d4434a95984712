# Documentation of the PowerShell module lgsec_win_guard.ps1 (as the bundled Windows collections
# document theirs).

DOCUMENTATION = r"""
---
module: lgsec_win_guard
short_description: Read what the Windows lockout guards need (the connecting account's token, groups by SID)
description:
  - Returns C(operator) (C(Name), C(SID) and C(Groups), the group SIDs of this connection's logon
    token, from C([Security.Principal.WindowsIdentity]::GetCurrent())) and C(groups), each asked
    group by SID with its C(Members) ({C(Name), C(SID)}), read by the collector's C(Get-LgsecGroup)
    (tools/windows/Ansible.ModuleUtils.LgsecCollect.psm1), which falls back to ADSI when
    C(Get-LocalGroupMember) fails on an orphaned member.
  - Nothing on the host is changed; check mode runs the same.
version_added: "0.1.0"
options:
  groups:
    description: SIDs of the local groups to read (Administrators S-1-5-32-544, Remote Desktop Users S-1-5-32-555).
    type: list
    elements: str
    default: [S-1-5-32-544]
author: lgsec
"""

EXAMPLES = r"""
- name: Read the connecting account and Administrators
  lgsec_win_guard:
    groups: [S-1-5-32-544]
  register: lgsec_win_acct_guard
"""

RETURN = r"""
operator:
  description: The connecting account and the group SIDs of its token.
  returned: success
  type: dict
groups:
  description: The groups asked for, in that order, each {Name, SID, Members}.
  returned: success
  type: list
"""
