<#
.SYNOPSIS
lgsec: collect this PC's security settings for an offline audit (情報セキュリティ対策要綱).

.DESCRIPTION
Read-only: nothing on the PC is changed. Writes one folder per computer,
<OutputDirectory>\<COMPUTERNAME>\, with the security policy (secedit), the audit policy
(auditpol), the registry keys lgsec judges (reg export), local users and groups by SID,
Defender, firewall, listening ports, installed programs, hotfixes, BitLocker and w32time.
Bring the folder to the controller and run:  lgsec audit --evidence <OutputDirectory>

Needs: Windows 10/11 or Server 2019-2025, Windows PowerShell 5.1, an elevated prompt
(secedit and auditpol read the policy only as an administrator).

.EXAMPLE
powershell -ExecutionPolicy Bypass -File lgsec-collect.ps1 -OutputDirectory E:\lgsec-evidence
#>
[CmdletBinding()]
param(
    [string]$OutputDirectory = (Join-Path $PSScriptRoot 'evidence'),
    # files a backup job touches on success (BACKUP-RECENT lgsec_backup_recent_stamp_file)
    [string[]]$StampFile = @()
)
$ErrorActionPreference = 'Stop'
$principal = New-Object -TypeName Security.Principal.WindowsPrincipal -ArgumentList ([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Error '管理者として実行してください (run as administrator): right-click lgsec-collect.bat, "Run as administrator".'
    exit 2
}
# The collector itself: the same module the live audit runs over WinRM (one source of truth).
Import-Module -Name (Join-Path $PSScriptRoot 'Ansible.ModuleUtils.LgsecCollect.psm1') -Force
$target = Join-Path $OutputDirectory $env:COMPUTERNAME
if (Test-Path -LiteralPath $target) { Remove-Item -LiteralPath $target -Recurse -Force }
New-Item -ItemType Directory -Path $target -Force | Out-Null
$manifest = Invoke-LgsecCollect -Directory $target -StampFile $StampFile
Write-Host "lgsec: evidence of $($manifest.computer) written to $target"
foreach ($name in $manifest.errors.Keys) {
    Write-Warning "$name could not be collected: $($manifest.errors[$name])"
}
