; Agent Assist: Inno Setup 6 script of the per-machine Windows installer.
;
; NOT YET BUILT OR TESTED ON WINDOWS. It is written against the one-folder build that packaging/build.py makes
; (dist\agent-assist\ with agent-assist.exe, the console command, and agent-assist-gui.exe, the windowed app),
; but neither the Windows build nor this installer has been run yet: expect to fix paths on the first try.
;
; Build (on Windows, after `python packaging\build.py`):
;   iscc /DAppVersion=0.1.0 /DBuildId=g4bf4d7b.20261129 packaging\windows\agent-assist.iss
; Output: dist\agent-assist-<version>-setup.exe
;
; Silent install, as IT deploys it (administrator; per machine, into Program Files):
;   agent-assist-0.1.0-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /SP- /LOG="C:\Windows\Temp\agent-assist-setup.log"
;   optional: /DIR="D:\Apps\Agent Assist"   (install folder; default %ProgramFiles%\Agent Assist)
;             /TASKS="desktopicon"          (also a desktop shortcut for all users)
;             /NOICONS                      (no Start menu folder)
; Exit code 0 = installed; see the /LOG file otherwise. Silent uninstall:
;   "%ProgramFiles%\Agent Assist\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
;
; Machine-wide files (kept by uninstall, so that an upgrade or a reinstall keeps them):
;   %ProgramData%\AgentAssist\policy.toml        the machine policy IT writes (docs/policy.md); an example,
;                                                policy.toml.example, is installed beside it
;   %ProgramData%\AgentAssist\models\            the models (`agent-assist models install whisper-base`, as admin)
; Per-user files stay in each user's profile (%LOCALAPPDATA%\agent-assist: data, logs, crash reports).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef BuildId
  #define BuildId "unstamped"
#endif
#define AppName "Agent Assist"
#define DistDir "..\..\dist\agent-assist"

[Setup]
; A fixed AppId: upgrades replace the installed version in place (never change it).
AppId={{6F1B7C52-3E0A-4B9E-9C1D-5A7E2B4F8D31}
AppName={#AppName}
AppVersion={#AppVersion}+{#BuildId}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Agent Assist
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per machine: administrator rights, Program Files, shortcuts for all users; no per-user install offered.
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=agent-assist-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\agent-assist-gui.exe
; The app may be running during an upgrade: ask Restart Manager to close it (silently with /SUPPRESSMSGBOXES).
CloseApplications=yes
RestartApplications=no
; The command-line folder goes on the machine PATH (agent-assist doctor, models install, event hooks).
ChangesEnvironment=yes

[Languages]
Name: "french"; MessagesFile: "compiler:Languages\French.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Dirs]
; Readable by every user, writable by administrators only (the default ACL of ProgramData subfolders
; lets users create files: narrow it so that only IT can change the policy and the models).
Name: "{commonappdata}\AgentAssist"; Permissions: users-readexec admins-full system-full; Flags: uninsneveruninstall
Name: "{commonappdata}\AgentAssist\models"; Permissions: users-readexec admins-full system-full; Flags: uninsneveruninstall

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "..\deb\policy.toml.example"; DestDir: "{commonappdata}\AgentAssist"; Flags: ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\agent-assist-gui.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\agent-assist-gui.exe"; Tasks: desktopicon

[Registry]
; agent-assist.exe on the machine PATH (removed at uninstall).
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; \
  ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
; Interactive installs only: a silent install never starts the app (IT checks it with the smoke test instead).
Filename: "{app}\agent-assist-gui.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Code]
function NeedsAddPath(Folder: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Folder) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Path, Folder: string;
  P: Integer;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  Folder := ExpandConstant('{app}');
  if RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Path) then
  begin
    P := Pos(';' + Uppercase(Folder), Uppercase(Path));
    if P > 0 then
    begin
      Delete(Path, P, Length(Folder) + 1);
      RegWriteExpandStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Path);
    end;
  end;
end;
