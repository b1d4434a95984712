#!powershell
# lgsec_win_guard: what the Windows roles' lockout guards must know before they change anything
# (read-only): the connecting account with the group SIDs of its logon token, and built-in groups
# with their members by SID.
#  - The token: [Security.Principal.WindowsIdentity]::GetCurrent() .User and .Groups (.NET API
#    reference, WindowsIdentity.Groups: the groups the user belongs to, nested domain groups
#    included; deny-only SIDs, as UAC filtering leaves them, are not listed). An administrator
#    through Domain Admins in Administrators has Domain Admins' SID there, not its own.
#  - The members: the collector's Get-LgsecGroup (Ansible.ModuleUtils.LgsecCollect): never
#    Get-LocalGroupMember alone, which fails on an orphaned member SID (PowerShell issue
#    PowerShell/PowerShell#2996); the collector falls back to ADSI (WinNT) members by SID.

#AnsibleRequires -CSharpUtil Ansible.Basic
#Requires -Module Ansible.ModuleUtils.LgsecCollect

$spec = @{
    options = @{
        groups = @{ type = 'list'; elements = 'str'; default = @('S-1-5-32-544') }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false

try {
    $me = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $module.Result.operator = @{
        Name = $me.Name
        SID = $me.User.Value
        Groups = @($me.Groups | ForEach-Object { $_.Value })
    }
    $module.Result.groups = @($module.Params.groups | ForEach-Object { Get-LgsecGroup -Sid $_ })
} catch {
    $module.FailJson("lgsec_win_guard failed: $($_.Exception.Message)", $_)
}
$module.ExitJson()
