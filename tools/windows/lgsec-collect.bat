@echo off
rem lgsec: collect this PC's security settings for an offline audit (read-only).
rem Right-click, "Run as administrator" (secedit and auditpol need it). The evidence goes to
rem the folder "evidence" beside this file unless a folder is given: lgsec-collect.bat E:\lgsec-evidence
rem -ExecutionPolicy Bypass applies to this one run only; nothing is changed on the PC.
setlocal
set "OUT=%~1"
if "%OUT%"=="" set "OUT=%~dp0evidence"
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0lgsec-collect.ps1" -OutputDirectory "%OUT%"
set RC=%ERRORLEVEL%
pause
exit /b %RC%
