# Documentation of the PowerShell module lgsec_windows_facts.ps1 (as the bundled Windows
# collections document theirs); the action plugin of the same name runs it and decodes its
# result on the controller.

DOCUMENTATION = r"""
---
module: lgsec_windows_facts
short_description: Gather the facts of lgsec's Windows controls in one run (read-only)
description:
  - Runs lgsec's Windows collector (tools/windows/Ansible.ModuleUtils.LgsecCollect.psm1, the same
    code as the offline script tools/windows/lgsec-collect.ps1) on the host, in a temporary folder
    removed afterwards, and returns every evidence file.
  - The files are Windows' own outputs — C(secedit /export), C(auditpol /backup), C(reg export) of
    the keys the checks read and of each loaded user hive's Uninstall key, C(ConvertTo-Json) of
    local users (with Win32_UserAccount's password expiry flag) and of the Administrators
    (S-1-5-32-544), Remote Desktop Users (S-1-5-32-555) and Remote Management Users (S-1-5-32-580)
    groups by SID, Get-MpComputerStatus, Get-MpPreference, Security Center products (none on
    Windows Server, recorded as missing), Get-NetFirewallProfile, listening sockets with their
    process, Get-HotFix, Get-BitLockerVolume with each volume's drive type, services, optional
    features, scheduled tasks, Get-AppxPackage -AllUsers, user profiles, the WinRM listeners and
    RootSDDL, C(w32tm /query /configuration) and C(/query /source), and one C(w32tm /stripchart)
    sample (against the domain source on an NT5DS member).
  - The action plugin decodes them (UTF-16LE, UTF-8 with or without BOM) and returns C(lgsec_facts)
    in the shape C(lgsec audit --evidence) reads from a folder, with C(platform=windows).
  - Nothing on the host is changed; check mode runs the same.
version_added: "0.1.0"
options:
  stamp_files:
    description: Files a backup job touches on success (BACKUP-RECENT); their modification time is read.
    type: list
    elements: str
    default: []
notes:
  - Needs Windows PowerShell 5.1 and an administrator connection (secedit and auditpol).
  - A part that cannot be read is recorded in C(lgsec_facts.errors) with its reason; its controls
    are reported C(error), never C(pass). The collector sets ErrorActionPreference Continue itself,
    so one failing probe never ends the collection, whatever the module wrapper's preference.
author: lgsec
"""

EXAMPLES = r"""
- name: Gather the Windows facts
  lgsec_windows_facts:
    stamp_files: ['D:\backup\last-success.txt']
  register: lgsec_gather_windows
"""

RETURN = r"""
lgsec_facts:
  description: The host's evidence, decoded (lgsec/windows.py describes the shape).
  returned: success
  type: dict
"""
