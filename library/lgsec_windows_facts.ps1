#!powershell
# lgsec_windows_facts: gather every fact the Windows controls need, in one module run
# (read-only). The collector is the module_util Ansible.ModuleUtils.LgsecCollect
# (tools/windows/, found through ansible.cfg module_utils), the same code the offline
# collection script runs. Each evidence file is returned as base64 of its bytes; the action
# plugin of the same name decodes them on the controller with lgsec.windows.decode, so live
# facts and offline evidence are read by one reader.

#AnsibleRequires -CSharpUtil Ansible.Basic
#Requires -Module Ansible.ModuleUtils.LgsecCollect

$spec = @{
    options = @{
        stamp_files = @{ type = 'list'; elements = 'str'; default = @() }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false

$dir = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('lgsec-' + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $dir -Force | Out-Null
try {
    $manifest = Invoke-LgsecCollect -Directory $dir -StampFile @($module.Params.stamp_files)
    $files = @{}
    Get-ChildItem -LiteralPath $dir -Recurse -File | ForEach-Object {
        $name = $_.FullName.Substring($dir.Length + 1) -replace '\\', '/'
        $files[$name] = [System.Convert]::ToBase64String([System.IO.File]::ReadAllBytes($_.FullName))
    }
    $module.Result.lgsec_raw = @{
        manifest = $files['lgsec-evidence.json']
        files = $files
    }
} catch {
    $module.FailJson("lgsec collector failed: $($_.Exception.Message)", $_)
} finally {
    Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
}
$module.ExitJson()
