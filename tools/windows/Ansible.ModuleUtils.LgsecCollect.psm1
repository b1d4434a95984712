# Ansible.ModuleUtils.LgsecCollect - lgsec's one collector of Windows evidence.
#
# Used two ways, from this one file (README "Windows"):
#   - live: library/lgsec_windows_facts.ps1 (#Requires -Module Ansible.ModuleUtils.LgsecCollect;
#     ansible.cfg module_utils includes tools/windows) collects into a temporary folder and returns
#     the files to the controller;
#   - offline: tools/windows/lgsec-collect.ps1 (and the .bat staff double-click) collects into
#     a folder that `lgsec audit --evidence DIR` judges.
# Every file is written by Windows' own tool in the tool's own format (secedit, reg export,
# auditpol) or as ConvertTo-Json (UTF-8 with BOM). The controller (lgsec/windows.py) reads them;
# nothing here judges anything. Read-only: the host's settings are never changed.
# The file names must equal lgsec/windows.py FILES and REG_KEYS (tests/unit/test_windows_collector.py).

Set-StrictMode -Version 2.0

$script:LgsecFormat = 'lgsec-windows-evidence/1'
$script:LgsecVersion = '0.1.0'
$script:LgsecRegistryKeys = [ordered]@{
    'HKLM\SYSTEM\CurrentControlSet\Control\Lsa' = 'registry/01-lsa.reg'
    'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies' = 'registry/02-cv-policies.reg'
    'HKLM\SOFTWARE\Policies' = 'registry/03-policies.reg'
    'HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server' = 'registry/04-terminal-server.reg'
    'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application' = 'registry/05-eventlog-application.reg'
    'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Security' = 'registry/06-eventlog-security.reg'
    'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\System' = 'registry/07-eventlog-system.reg'
    'HKLM\SYSTEM\CurrentControlSet\Services\W32Time\Parameters' = 'registry/08-w32time.reg'
    'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall' = 'registry/09-uninstall.reg'
    'HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall' = 'registry/10-uninstall-wow64.reg'
    # playbooks/provision_user_windows.yml's records (value = a new account's SID, data = UTC time): ID-UNUSED
    'HKLM\SOFTWARE\lgsec\Provisioned' = 'registry/11-lgsec-provisioned.reg'
}

Function Write-LgsecText {
    param([string]$Path, [string]$Text)
    # UTF-8 with BOM, as Out-File -Encoding utf8 writes it on Windows PowerShell 5.1
    [System.IO.File]::WriteAllText($Path, $Text, (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $true))
}

Function Write-LgsecJson {
    param([string]$Path, $InputObject)
    Write-LgsecText -Path $Path -Text (ConvertTo-Json -InputObject $InputObject -Depth 5)
}

Function Invoke-LgsecNative {
    # Run a Windows tool; throw with its output when it fails.
    param([string]$FilePath, [string[]]$ArgumentList)
    $ErrorActionPreference = 'Continue'
    $output = & $FilePath @ArgumentList 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) {
        throw "$FilePath $($ArgumentList -join ' ') exited $LASTEXITCODE`: $($output.Trim())"
    }
    $output
}

Function Get-LgsecGroup {
    # A built-in group by SID with its members by SID (group names are localised on Japanese Windows).
    param([string]$Sid)
    $group = Get-LocalGroup -SID $Sid -ErrorAction Stop
    $members = @()
    try {
        $members = @(Get-LocalGroupMember -SID $Sid -ErrorAction Stop | ForEach-Object {
            [ordered]@{ Name = $_.Name; SID = $_.SID.Value; ObjectClass = [string]$_.ObjectClass; PrincipalSource = [string]$_.PrincipalSource }
        })
    } catch {
        # Get-LocalGroupMember fails on an orphaned (unresolvable) member: read the group through ADSI.
        $adsi = [ADSI]"WinNT://./$($group.Name),group"
        $members = @(@($adsi.Invoke('Members')) | ForEach-Object {
            $type = $_.GetType()
            $bytes = $type.InvokeMember('objectSid', 'GetProperty', $null, $_, $null)
            $path = [string]$type.InvokeMember('ADsPath', 'GetProperty', $null, $_, $null)
            [ordered]@{
                Name = ($path -replace '^WinNT://', '' -replace '/', '\')
                SID = (New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $bytes, 0).Value
                ObjectClass = [string]$type.InvokeMember('Class', 'GetProperty', $null, $_, $null)
                PrincipalSource = 'ADSI'
            }
        })
    }
    [ordered]@{ Name = $group.Name; SID = $group.SID.Value; Members = $members }
}

Function Get-LgsecTimePeer {
    # The peer to measure against: on a domain member (Type NT5DS) the source w32tm follows in
    # the domain hierarchy (NtpServer is unused); else the first NTP server (Group Policy first).
    $type = $null
    foreach ($key in 'HKLM:\SOFTWARE\Policies\Microsoft\W32Time\Parameters', 'HKLM:\SYSTEM\CurrentControlSet\Services\W32Time\Parameters') {
        if (-not $type) { $type = (Get-ItemProperty -Path $key -Name Type -ErrorAction SilentlyContinue).Type }
    }
    if ($type -eq 'NT5DS') {
        $source = ((Invoke-LgsecNative w32tm.exe @('/query', '/source')) -split "`r?`n")[0].Trim()
        if ($source -match '^[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9](,0x[0-9a-fA-F]+)?$') { return ($source -split ',')[0] }
        throw "w32tm /query /source: $source (no domain time source)"
    }
    foreach ($key in 'HKLM:\SOFTWARE\Policies\Microsoft\W32Time\Parameters', 'HKLM:\SYSTEM\CurrentControlSet\Services\W32Time\Parameters') {
        $value = (Get-ItemProperty -Path $key -Name NtpServer -ErrorAction SilentlyContinue).NtpServer
        if ($value) { return (($value -split '\s+')[0] -split ',')[0] }
    }
    throw 'no NtpServer configured'
}

Function Invoke-LgsecCollect {
    <#
    .SYNOPSIS
    Write lgsec's Windows evidence into Directory; returns the manifest (also written as lgsec-evidence.json).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][string]$Directory,
        [string[]]$StampFile = @()
    )
    # The same on both paths: the Ansible module wrapper runs with Stop, a console with Continue.
    # Continue here: a probe's main cmdlet fails through its own -ErrorAction Stop into the step's
    # catch (that file's error), a side probe never aborts a file, and a native tool's stderr
    # (2>&1) is never a terminating NativeCommandError on Windows PowerShell 5.1.
    $ErrorActionPreference = 'Continue'
    $errors = [ordered]@{}
    $missing = @()
    $registry = [ordered]@{}
    New-Item -ItemType Directory -Path (Join-Path $Directory 'registry') -Force | Out-Null
    $at = { param($name) Join-Path $Directory ($name -replace '/', '\') }

    $steps = [ordered]@{
        'secedit.inf' = { param($p) Invoke-LgsecNative secedit.exe @('/export', '/cfg', $p, '/areas', 'SECURITYPOLICY', 'USER_RIGHTS', '/quiet') | Out-Null }
        'auditpol.csv' = { param($p) Invoke-LgsecNative auditpol.exe @('/backup', "/file:$p") | Out-Null }
        'os.json' = { param($p)
            $cv = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction Stop
            $os = [ordered]@{}
            foreach ($n in 'ProductName', 'EditionID', 'InstallationType', 'DisplayVersion', 'CurrentBuild', 'UBR', 'CurrentMajorVersionNumber') {
                $os[$n] = if ($cv.PSObject.Properties[$n]) { $cv.$n } else { $null }
            }
            Write-LgsecJson $p $os }
        'users.json' = { param($p)
            # Get-LocalUser has no "password never expires" flag: Win32_UserAccount.PasswordExpires has it
            $expires = @{}
            Get-CimInstance -ClassName Win32_UserAccount -Filter 'LocalAccount=True' -ErrorAction Stop | ForEach-Object { $expires[$_.SID] = [bool]$_.PasswordExpires }
            Write-LgsecJson $p @(Get-LocalUser -ErrorAction Stop | ForEach-Object {
                $never = if ($expires.ContainsKey($_.SID.Value)) { -not $expires[$_.SID.Value] } else { $null }
                [ordered]@{ Name = $_.Name; SID = $_.SID.Value; Enabled = $_.Enabled; Description = $_.Description
                    LastLogon = $_.LastLogon; PasswordLastSet = $_.PasswordLastSet; PasswordExpires = $_.PasswordExpires
                    PasswordNeverExpires = $never
                    PasswordRequired = $_.PasswordRequired; UserMayChangePassword = $_.UserMayChangePassword }
            }) }
        'groups.json' = { param($p) Write-LgsecJson $p @((Get-LgsecGroup 'S-1-5-32-544'), (Get-LgsecGroup 'S-1-5-32-555'), (Get-LgsecGroup 'S-1-5-32-580')) }
        'defender.json' = { param($p)
            Write-LgsecJson $p (Get-MpComputerStatus -ErrorAction Stop | Select-Object AMRunningMode, AMServiceEnabled,
                AntispywareEnabled, AntivirusEnabled, AntivirusSignatureAge, AntivirusSignatureLastUpdated,
                AntivirusSignatureVersion, FullScanAge, FullScanEndTime, IsTamperProtected, QuickScanAge, RealTimeProtectionEnabled) }
        'mppreference.json' = { param($p)
            $pref = Get-MpPreference -ErrorAction Stop
            $time = $pref.ScanScheduleTime
            if ($time -is [TimeSpan]) { $time = $time.ToString('hh\:mm\:ss') } elseif ($time -is [DateTime]) { $time = $time.ToString('HH:mm:ss') }
            Write-LgsecJson $p ([ordered]@{ ScanParameters = [int]$pref.ScanParameters; ScanScheduleDay = [int]$pref.ScanScheduleDay
                ScanScheduleTime = [string]$time; DisableRealtimeMonitoring = $pref.DisableRealtimeMonitoring
                DisableCatchupFullScan = $pref.DisableCatchupFullScan; ScanOnlyIfIdleEnabled = $pref.ScanOnlyIfIdleEnabled }) }
        'avproducts.json' = { param($p)
            Write-LgsecJson $p @(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct -ErrorAction Stop |
                Select-Object displayName, productState, pathToSignedProductExe) }
        'firewall.json' = { param($p)
            Write-LgsecJson $p @(Get-NetFirewallProfile -PolicyStore ActiveStore -ErrorAction Stop | ForEach-Object {
                [ordered]@{ Name = [string]$_.Name; Enabled = [string]$_.Enabled; DefaultInboundAction = [string]$_.DefaultInboundAction
                    DefaultOutboundAction = [string]$_.DefaultOutboundAction }
            }) }
        'listening.json' = { param($p)
            $names = @{}
            Get-Process | ForEach-Object { $names[[int]$_.Id] = $_.ProcessName }
            $tcp = @(Get-NetTCPConnection -State Listen -ErrorAction Stop | ForEach-Object {
                [ordered]@{ Protocol = 'TCP'; LocalAddress = $_.LocalAddress; LocalPort = [int]$_.LocalPort
                    OwningProcess = [int]$_.OwningProcess; Process = $names[[int]$_.OwningProcess] } })
            $udp = @(Get-NetUDPEndpoint -ErrorAction Stop | ForEach-Object {
                [ordered]@{ Protocol = 'UDP'; LocalAddress = $_.LocalAddress; LocalPort = [int]$_.LocalPort
                    OwningProcess = [int]$_.OwningProcess; Process = $names[[int]$_.OwningProcess] } })
            Write-LgsecJson $p @($tcp + $udp) }
        'hotfixes.json' = { param($p) Write-LgsecJson $p @(Get-HotFix -ErrorAction Stop | Select-Object HotFixID, Description, InstalledOn) }
        'bitlocker.json' = { param($p)
            # VolumeType is OperatingSystem or Data (a USB stick too): add the drive type
            $types = @{}
            Get-CimInstance -ClassName Win32_LogicalDisk -ErrorAction Stop | ForEach-Object { $types[[string]$_.DeviceID] = [int]$_.DriveType }
            Write-LgsecJson $p @(Get-BitLockerVolume -ErrorAction Stop | ForEach-Object {
                $type = $types[[string]$_.MountPoint]
                if ($null -eq $type) {
                    $volume = Get-Volume -Path $_.MountPoint -ErrorAction SilentlyContinue
                    if ($volume) { $type = [string]$volume.DriveType }
                }
                [ordered]@{ MountPoint = $_.MountPoint; VolumeType = [string]$_.VolumeType; DriveType = $type; VolumeStatus = [string]$_.VolumeStatus
                    ProtectionStatus = [string]$_.ProtectionStatus; EncryptionPercentage = $_.EncryptionPercentage }
            }) }
        'services.json' = { param($p)
            Write-LgsecJson $p @(Get-Service -ErrorAction Stop | ForEach-Object {
                [ordered]@{ Name = $_.Name; DisplayName = $_.DisplayName; Status = [string]$_.Status; StartType = [string]$_.StartType }
            }) }
        'features.json' = { param($p)
            Write-LgsecJson $p @(Get-WindowsOptionalFeature -Online -ErrorAction Stop | ForEach-Object {
                [ordered]@{ FeatureName = $_.FeatureName; State = [string]$_.State } }) }
        'tasks.json' = { param($p)
            Write-LgsecJson $p @(Get-ScheduledTask -ErrorAction Stop | Where-Object { $_.TaskPath -notlike '\Microsoft\*' -or $_.TaskPath -like '\Microsoft\Windows\Backup\*' } | ForEach-Object {
                $info = $_ | Get-ScheduledTaskInfo
                [ordered]@{ TaskPath = $_.TaskPath; TaskName = $_.TaskName; State = [string]$_.State
                    LastRunTime = $info.LastRunTime; LastTaskResult = $info.LastTaskResult; NextRunTime = $info.NextRunTime }
            }) }
        'w32tm.txt' = { param($p) Write-LgsecText $p (Invoke-LgsecNative w32tm.exe @('/query', '/configuration')) }
        'timesource.txt' = { param($p) Write-LgsecText $p (Invoke-LgsecNative w32tm.exe @('/query', '/source')) }
        'timeoffset.txt' = { param($p)
            $peer = Get-LgsecTimePeer
            Write-LgsecText $p (Invoke-LgsecNative w32tm.exe @('/stripchart', "/computer:$peer", '/samples:1', '/dataonly')) }
        'winrm.json' = { param($p)
            # The WSMan: drive needs the service; stopped (a workgroup PC audited offline), the
            # service's own registry key still holds its RootSDDL (absent = the default).
            $winrm = Get-Service -Name WinRM -ErrorAction Stop
            $listeners = @()
            if ($winrm.Status -eq 'Running') {
                $listeners = @(Get-ChildItem -Path WSMan:\localhost\Listener -ErrorAction Stop | ForEach-Object {
                    $keys = @{}
                    foreach ($k in $_.Keys) { $pair = $k -split '=', 2; if ($pair.Count -eq 2) { $keys[$pair[0]] = $pair[1] } }
                    $port = (Get-ChildItem -Path $_.PSPath -ErrorAction SilentlyContinue | Where-Object { $_.Name -eq 'Port' }).Value
                    [ordered]@{ Transport = $keys['Transport']; Address = $keys['Address']; Port = $port }
                })
                $sddl = (Get-Item -Path WSMan:\localhost\Service\RootSDDL -ErrorAction Stop).Value
            } else {
                $sddl = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WSMAN\Service' -Name rootSDDL -ErrorAction SilentlyContinue).rootSDDL
            }
            Write-LgsecJson $p ([ordered]@{ Service = [string]$winrm.Status; Listeners = $listeners; RootSDDL = [string]$sddl }) }
        'appx.json' = { param($p)
            Write-LgsecJson $p @(Get-AppxPackage -AllUsers -ErrorAction Stop | ForEach-Object {
                [ordered]@{ Name = $_.Name; PackageFullName = $_.PackageFullName; Version = [string]$_.Version; Publisher = $_.Publisher
                    IsFramework = [bool]$_.IsFramework; IsResourcePackage = [bool]$_.IsResourcePackage; SignatureKind = [string]$_.SignatureKind }
            }) }
        'profiles.json' = { param($p)
            Write-LgsecJson $p @(Get-CimInstance -ClassName Win32_UserProfile -ErrorAction Stop | ForEach-Object {
                [ordered]@{ SID = $_.SID; LocalPath = $_.LocalPath; Loaded = [bool]$_.Loaded; Special = [bool]$_.Special } }) }
        'stamps.json' = { param($p)
            Write-LgsecJson $p @($StampFile | ForEach-Object {
                $item = Get-Item -LiteralPath $_ -ErrorAction SilentlyContinue
                [ordered]@{ Path = $_; LastWriteTimeUtc = if ($item) { $item.LastWriteTimeUtc.ToString('o') } else { $null } }
            }) }
    }

    # Not on this host (not an error): Defender not installed (Windows Server without the
    # Windows-Defender feature), no Security Center (Windows Server has no root/SecurityCenter2).
    $absent = @()
    if (-not (Get-Service -Name WinDefend -ErrorAction SilentlyContinue)) { $absent += 'defender.json', 'mppreference.json' }
    if (-not (Get-CimInstance -Namespace root -ClassName __NAMESPACE -Filter "Name='SecurityCenter2'" -ErrorAction SilentlyContinue)) { $absent += 'avproducts.json' }
    foreach ($name in $steps.Keys) {
        if ($name -eq 'stamps.json' -and -not $StampFile) { $missing += $name; continue }
        if ($absent -contains $name) { $missing += $name; continue }
        try {
            & $steps[$name] (& $at $name)
        } catch {
            $errors[$name] = $_.Exception.Message
        }
    }
    # Per-user installs: the Uninstall key of every loaded user hive (HKU\<SID>; profiles not
    # signed in are listed by profiles.json and not loaded: loading NTUSER.DAT writes to it).
    $keys = [ordered]@{}
    foreach ($k in $script:LgsecRegistryKeys.Keys) { $keys[$k] = $script:LgsecRegistryKeys[$k] }
    $n = 12
    Get-ChildItem -Path Registry::HKEY_USERS -ErrorAction SilentlyContinue | Where-Object { $_.PSChildName -match '^S-1-5-21-[\d-]+$' } | ForEach-Object {
        $keys["HKU\$($_.PSChildName)\Software\Microsoft\Windows\CurrentVersion\Uninstall"] = "registry/$n-user-$($_.PSChildName).reg"
        $n++
    }
    foreach ($key in $keys.Keys) {
        $file = $keys[$key]
        if (-not (Test-Path -LiteralPath ('Registry::' + ($key -replace '^HKLM', 'HKEY_LOCAL_MACHINE' -replace '^HKU', 'HKEY_USERS')))) {
            $registry[$key] = $null  # absent on this host (not an error: its values are unset)
            continue
        }
        try {
            Invoke-LgsecNative reg.exe @('export', $key, (& $at $file), '/y') | Out-Null
            $registry[$key] = $file
        } catch {
            $registry[$key] = $file
            $errors[$file] = $_.Exception.Message
        }
    }
    $manifest = [ordered]@{
        format = $script:LgsecFormat
        computer = $env:COMPUTERNAME
        collected = (Get-Date).ToString('yyyy-MM-ddTHH:mm:sszzz')
        collector = "lgsec collector $script:LgsecVersion (PowerShell $($PSVersionTable.PSVersion))"
        registry_keys = $registry
        missing = $missing
        errors = $errors
    }
    Write-LgsecJson (Join-Path $Directory 'lgsec-evidence.json') $manifest
    $manifest
}

Export-ModuleMember -Function Invoke-LgsecCollect, Get-LgsecGroup  # Get-LgsecGroup: also library/lgsec_win_guard.ps1
