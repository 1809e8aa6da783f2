"""The rule catalogue: every rule the inspection engine can report, once.

Each entry gives the rule's id, its category, its default severity (rules raise or lower it with
*when* code runs: at install, at interpreter start, on import or only when called), a one-line
description, how to check a finding by hand, and when a finding is a false positive. SARIF's rule
metadata, the documentation and the verdict's one-line reason read it; a test checks that every
rule id the engine can emit is here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipvet.core.analysis.model import SEVERITIES, Finding


@dataclass(frozen=True)
class Rule:
    """One rule of the engine, for people."""

    id: str
    category: str
    severity: str  # default severity (one of SEVERITIES)
    description: str  # one line: what the rule reports
    check: str  # how to confirm a finding by hand
    false_positive: str  # when a finding is not a problem

    @property
    def name(self) -> str:
        return self.id.partition(".")[2]

    @property
    def why(self) -> str:
        """Why a finding of this rule matters (said once per category)."""
        return CATEGORY_WHY.get(self.category, "")


_ARCHIVE_CHECK = "List the archive (tar -tvf / unzip -l) and look at the member named."
_ARCHIVE_FP = "A test fixture inside a nested archive: installers never unpack nested archives."

_RULES = (
    # -- capabilities ---------------------------------------------------------------------------
    Rule(
        "capability.process",
        "process",
        "low",
        "Runs a process or shell command (higher at install, start-up or import).",
        "Read the call and its command line; ask whether installing or importing needs it.",
        "Build tools (compilers, git, *-config) and the sdist's own build script run by setup.py.",
    ),
    Rule(
        "capability.network",
        "network",
        "low",
        "Opens network connections (higher at install, start-up or import).",
        "Find the destination and what is sent; installing a package should not need it.",
        "SDKs called by the user; a build unpacking a downloaded release archive (medium).",
    ),
    Rule(
        "capability.vendor-installer",
        "process",
        "medium",
        "Runs a vendor's published install line (curl -LsSf https://host/install.sh | sh) "
        "when called.",
        "Check the host is the vendor of the tool being set up and that only a user's request "
        "runs the function.",
        "Tools that set up another tool on request (uv, Pulumi, rustup, Docker).",
    ),
    Rule(
        "capability.dynamic-code",
        "dynamic-code",
        "low",
        "Runs dynamically built code (exec, eval, compile, __import__, marshal, ctypes).",
        "Find what the code string is built from; fold it by hand if it is a constant.",
        "Plugin loaders, version files read with exec, templating engines.",
    ),
    Rule(
        "capability.clipboard",
        "credentials",
        "medium",
        "Reads or writes the clipboard.",
        "Check whether the value is shown to the user or sent anywhere.",
        "Clipboard utilities and terminal helpers that copy on request.",
    ),
    Rule(
        "capability.screen-keyboard",
        "credentials",
        "medium",
        "Captures the screen or the keyboard.",
        "Check where captures go: a file the user chose, or the network.",
        "Screenshot, automation and accessibility libraries.",
    ),
    Rule(
        "capability.registry-write",
        "persistence",
        "medium",
        "Writes to the Windows registry.",
        "Read the key path: Run/RunOnce keys start programs at logon.",
        "Installers and settings tools writing their own keys.",
    ),
    Rule(
        "capability.fingerprint",
        "fingerprint",
        "low",
        "Reads the user or host identity at install or start-up.",
        "See whether the identity is sent anywhere (intent.exfiltration would say so).",
        "Build scripts that print the platform or choose a binary by host.",
    ),
    Rule(
        "capability.credential-path",
        "credentials",
        "medium",
        "Names a credential store (SSH keys, cloud or browser secrets, wallets).",
        "Check whether the file is read, and whether its content leaves the machine.",
        "Tools that manage those files for the user (netrc support, SSH clients).",
    ),
    Rule(
        "capability.persistence-path",
        "persistence",
        "medium",
        "Names an autostart location (Run key, startup folder, cron, shell rc, systemd).",
        "Check whether the code writes there (intent.persistence would say so).",
        "Service managers and shell-completion installers run on request.",
    ),
    # -- intent ---------------------------------------------------------------------------------
    Rule(
        "intent.decode-execute",
        "intent",
        "high",
        "Decodes hidden data (base64, zlib, XOR, substitution...) and executes it.",
        "Decode the blob offline (never run it) and read the code it hides.",
        "A codec helper decoding its caller's data on request; an RPC server importing a "
        "module by a name it is sent (medium).",
    ),
    Rule(
        "intent.download-execute",
        "intent",
        "high",
        "Downloads code (or installs packages) and runs it.",
        "Find the URL or package and what is done with the bytes fetched.",
        "Updaters run on request; a missing library installed; a named tool given fetched values.",
    ),
    Rule(
        "intent.drop-payload",
        "intent",
        "medium",
        "Writes decoded or downloaded content to a file.",
        "Find the path written and whether anything runs it later.",
        "Downloaded data (models, fonts) never run; a temporary file a converter reads.",
    ),
    Rule(
        "intent.write-execute",
        "intent",
        "high",
        "Writes a script or Python code to disk, then runs it.",
        "Read the text written (it is analysed as code too) and the command that runs it.",
        "Build helpers that generate and run a small probe script on request.",
    ),
    Rule(
        "intent.exfiltration",
        "intent",
        "high",
        "Sends host identity, secrets or the environment over the network.",
        "Read what is sent and where; a fixed third-party host is the warning sign.",
        "A client sending the user's own token to the service the user configured.",
    ),
    Rule(
        "intent.reverse-shell",
        "intent",
        "critical",
        "Runs commands received from a network peer, or wires a shell to a socket.",
        "Follow the socket's data into the process or exec call.",
        "Remote-execution frameworks (the user runs the server on purpose).",
    ),
    Rule(
        "intent.shell-download-execute",
        "intent",
        "high",
        "Runs a shell command line that fetches and runs code or hides a window.",
        "Read the command line (curl | sh, curl | python, powershell -enc, certutil...).",
        "A command shown to the user in a message, never run by the code.",
    ),
    Rule(
        "intent.credential-theft",
        "intent",
        "high",
        "Reads a browser, messenger or wallet credential store in code that uses the network.",
        "Check whether the store's content is read and sent.",
        "Browser automation tools that manage their own profile.",
    ),
    Rule(
        "intent.persistence",
        "intent",
        "medium",
        "Writes to or registers an autostart location (startup folder, cron, shell rc...).",
        "Read what is written there and when the code runs (install, import, on request).",
        "A command the user runs to install shell completion or a service.",
    ),
    Rule(
        "intent.self-delete",
        "intent",
        "medium",
        "Deletes its own file or folder as it runs (high on import or install): covering tracks.",
        "Find the os.remove/unlink/rmtree of __file__ or sys.argv[0] and read what runs before it.",
        "A one-shot script that removes itself on request; never a module of a package.",
    ),
    # -- install time ---------------------------------------------------------------------------
    Rule(
        "install-time.cmdclass",
        "install-time",
        "low",
        "Overrides a setup.py command (install, develop, egg_info...): its code runs on install.",
        "Read the overriding class's run(): what it does is reported by other rules.",
        "Build steps (compiling extensions, generating files).",
    ),
    Rule(
        "install-time.pth-code",
        "install-time",
        "low",
        "A .pth file runs code at every interpreter start.",
        "Read the import line of the .pth file and the module it runs.",
        "Editable installs and coverage/virtualenv hooks.",
    ),
    Rule(
        "install-time.setup-code",
        "install-time",
        "info",
        "setup.py runs code besides calling setup().",
        "Read setup.py's top-level statements.",
        "Reading a version or a README, finding extensions to build.",
    ),
    Rule(
        "install-time.runs-executable",
        "install-time",
        "high",
        "Launches an executable or script file at install, start-up or import.",
        "Find the file launched and where it came from.",
        "Build scripts that run a bundled configure script.",
    ),
    # -- obfuscation ----------------------------------------------------------------------------
    Rule(
        "obfuscation.bidi",
        "obfuscation",
        "high",
        "Bidirectional control characters in Python code (Trojan Source).",
        "Show the line with the controls made visible (cat -A, or an editor that shows them).",
        "Right-to-left prose in comments; Unicode tables listing the characters.",
    ),
    Rule(
        "obfuscation.hidden-code-exec",
        "obfuscation",
        "high",
        "Executes code that was built to be unreadable (chr runs, joins, reversals).",
        "Fold the string by hand (never run it) and read the code.",
        "Code generators that build small snippets from parts.",
    ),
    Rule(
        "obfuscation.hidden-import",
        "obfuscation",
        "high",
        "Imports a module whose name is hidden behind chr()/join tricks.",
        "Compute the module name by hand.",
        "Rare: honest lazy importers use plain strings.",
    ),
    Rule(
        "obfuscation.builtins-lookup",
        "obfuscation",
        "low",
        "Looks up builtins by a computed name, a way to hide exec/eval/__import__.",
        "Find what names the lookup can produce.",
        "Compatibility shims that look up builtins by a variable.",
    ),
    Rule(
        "obfuscation.generated-identifiers",
        "obfuscation",
        "medium",
        "Machine-generated or non-Latin identifiers throughout the file.",
        "Look at the file: obfuscators produce names like OO0O0O or _0x1f2a.",
        "Generated parsers and tables; code written in a non-Latin language.",
    ),
    Rule(
        "obfuscation.homoglyph",
        "obfuscation",
        "medium",
        "An identifier mixes Latin with Cyrillic or Greek look-alike letters.",
        "Print the identifier's code points.",
        "Mathematical code using Greek letters next to Latin ones.",
    ),
    Rule(
        "obfuscation.obfuscator-marker",
        "obfuscation",
        "medium",
        "Marker of a known Python obfuscator (PyArmor and others).",
        "Check whether the package's code is readable at all.",
        "Commercial packages protected with PyArmor on purpose; an obfuscator's own source (low).",
    ),
    Rule(
        "obfuscation.encoded-blob",
        "obfuscation",
        "medium",
        "A long encoded blob in a file that also executes dynamic code.",
        "Decode the blob offline and see what it is.",
        "Embedded data (images, certificates) next to an unrelated eval.",
    ),
    # -- indicators -----------------------------------------------------------------------------
    Rule(
        "indicator.messenger-webhook",
        "indicator",
        "medium",
        "Posts to a Discord, Telegram or Slack webhook, a common exfiltration channel.",
        "Check whether the webhook's id and token are written into the code.",
        "Notification libraries posting to a webhook the user configures.",
    ),
    Rule(
        "indicator.tunnel-or-callback",
        "indicator",
        "medium",
        "Talks to a tunnel or out-of-band callback service (ngrok, interactsh, pipedream...).",
        "Find what is sent there and when.",
        "Tunnel clients and test tools that use such services on request.",
    ),
    Rule(
        "indicator.paste-site",
        "indicator",
        "medium",
        "Fetches from or posts to a paste or file-drop site.",
        "Find what is fetched or sent.",
        "Paste clients and bug-report helpers run on request.",
    ),
    Rule(
        "indicator.cloud-metadata",
        "indicator",
        "low",
        "Queries the cloud instance metadata service, where machine credentials live.",
        "Check whether it happens at install and what is done with the answer.",
        "Cloud SDKs reading instance credentials on request.",
    ),
    Rule(
        "indicator.onion",
        "indicator",
        "high",
        "Names a Tor .onion host.",
        "Find how the host is used.",
        "Tor clients and documentation examples.",
    ),
    Rule(
        "indicator.cryptominer",
        "indicator",
        "high",
        "Names a crypto-mining pool or miner.",
        "Find whether a miner is downloaded or started.",
        "Mining software installed on purpose; a detector's regular expressions (low).",
    ),
    Rule(
        "indicator.executable-url",
        "indicator",
        "medium",
        "Downloads a Windows executable or script (.exe, .ps1, .bat...).",
        "Check whether the file is run after the download.",
        "Installers of tools that are distributed as executables.",
    ),
    Rule(
        "indicator.raw-ip-url",
        "indicator",
        "medium",
        "Connects to a hard-coded public IP address instead of a host name.",
        "Look up the address and find what is sent there.",
        "Public DNS resolvers and documentation addresses.",
    ),
    Rule(
        "indicator.import-beacon",
        "indicator",
        "high",
        "Importing the package contacts a host written into its __init__.py.",
        "Find the host and what is sent; dependency-confusion probes beacon this way.",
        "Packages that fetch settings or updates from their own host on import (pypi.org is "
        "not reported).",
    ),
    Rule(
        "indicator.shell-command",
        "indicator",
        "medium",
        "Holds a shell command line that fetches or hides code, not shown to run.",
        "Find whether any code passes the string to a shell.",
        "Installation hints printed to the user.",
    ),
    # -- metadata -------------------------------------------------------------------------------
    Rule(
        "metadata.typosquat",
        "metadata",
        "medium",
        "The name is one edit away from a popular project's name.",
        "Compare the name with the popular project and its author.",
        "Real projects with similar names (plugins, forks).",
    ),
    Rule(
        "metadata.dependency-confusion-version",
        "metadata",
        "medium",
        "A huge version number, typical of dependency-confusion uploads.",
        "Check the project's release history on the index.",
        "Projects that use date-based or very large versions on purpose.",
    ),
    Rule(
        "metadata.empty-description",
        "metadata",
        "info",
        "No description and no home page.",
        "Look at the project's page on the index.",
        "Small internal or placeholder projects.",
    ),
    Rule(
        "metadata.bundled-binary",
        "metadata",
        "low",
        "Ships a native executable or library.",
        "Check whether the binary is built from the sdist's sources.",
        "Wheels with compiled extensions.",
    ),
    Rule(
        "metadata.disguised-file",
        "metadata",
        "high",
        "A file named as bytecode (.pyc) or a typing marker (.typed) holds other binary data.",
        "Bytecode starts with 2 version bytes and \\r\\n, py.typed is text; find what opens it.",
        "A corrupted build artifact; regenerate it and compare.",
    ),
    Rule(
        "metadata.name-mismatch",
        "metadata",
        "info",
        "The name inside the artifact differs from its file name.",
        "Compare PKG-INFO/METADATA with the file name.",
        "Normalised names (dashes, underscores, case).",
    ),
    # -- analysis -------------------------------------------------------------------------------
    Rule(
        "analysis.unreadable",
        "analysis",
        "low",
        "A file could not be fully analysed (fail closed: reported, not skipped).",
        "Open the file and read it by hand.",
        "Very large or deeply nested generated files.",
    ),
    Rule(
        "analysis.encoding",
        "analysis",
        "medium",
        "A codec that hides code from a plain reading (utf-7...), or bytes it cannot decode.",
        "Decode a copy with its declared codec (never import it) and read what it says.",
        "Old projects in a legacy single-byte or East Asian encoding whose text is plain.",
    ),
    Rule(
        "analysis.size-limit",
        "analysis",
        "medium",
        "A file over the parse size: read whole in parts (medium) or only its head (high: blocks).",
        "Look at what follows the analysed part; padding after a payload is a known evasion.",
        "Generated modules (API bindings, tables): read whole in parts, they warn but never block.",
    ),
    Rule(
        "analysis.truncated",
        "analysis",
        "medium",
        "A member was cut short (its archive entry ends before its declared size).",
        "Compare the member's size with the archive listing; re-download the artifact.",
        "A corrupt download; the hash check of a lock tells a corrupt file from another one.",
    ),
    Rule(
        "analysis.bytecode",
        "analysis",
        "high",
        "A wheel installs compiled Python (.pyc) that runs without its source being read.",
        "Decompile it offline (never import it) or build the wheel again from its source.",
        "A wheel built with its bytecode by mistake (no honest popular wheel measured ships one).",
    ),
    Rule(
        "analysis.parse-failed",
        "analysis",
        "medium",
        "Python that does not parse: read whole by tokens (medium) or stopped short (high).",
        "Run `python -m py_compile` on a copy and read the file around the line named.",
        "Newer syntax, Python 2, parser fixtures; where the build installs nothing it counts less.",
    ),
    Rule(
        "analysis.python2",
        "analysis",
        "low",
        "Python 2 that no Python 3 compiles (a print statement, 0777): it cannot run on install.",
        "Run `python3 -m py_compile` on a copy: it fails at the line named, as on every Python 3.",
        "Old code kept in the package; on Python 3 importing it fails before anything runs.",
    ),
    Rule(
        "analysis.never-compiles",
        "analysis",
        "low",
        "Python no version compiles (an unmatched bracket, an unindent to no block, a bad escape).",
        "Run `python -m py_compile` on a copy: it fails at the line named, on every Python.",
        "A module broken in the release; importing it fails before anything of it runs.",
    ),
    Rule(
        "analysis.depth-limit",
        "analysis",
        "medium",
        "Code nested too deep to follow; the rest of the file was still analysed.",
        "Read the expression at the line named; deep nesting before a payload is an evasion.",
        "Generated code (long literal tables, parser tables).",
    ),
    Rule(
        "scan.internal-error",
        "analysis",
        "high",
        "The analysis failed on this artifact (a bug or hostile input): nothing vouches for it.",
        "Scan it again with -v; report the bug with the artifact's sha256.",
        "None: the engine could not look, so it cannot say clean.",
    ),
    Rule(
        "scan.worker-died",
        "analysis",
        "high",
        "The process analysing this artifact died (out of memory, killed): nothing vouches for it.",
        "Scan the artifact alone (`pipvet scan FILE -j 1`) and watch its memory.",
        "A very large artifact on a machine short of memory.",
    ),
    # -- archive --------------------------------------------------------------------------------
    Rule(
        "archive.limit-header",
        "archive",
        "high",
        "A tar header extension (PAX, GNU long name) over the bound; later members not read.",
        _ARCHIVE_CHECK,
        "None known in honest packages: build tools write short headers.",
    ),
    Rule(
        "archive.absolute-path",
        "archive",
        "high",
        "A member has an absolute path.",
        _ARCHIVE_CHECK,
        _ARCHIVE_FP,
    ),
    Rule(
        "archive.path-traversal",
        "archive",
        "high",
        "A member path climbs out of the archive (..).",
        _ARCHIVE_CHECK,
        _ARCHIVE_FP,
    ),
    Rule(
        "archive.control-chars",
        "archive",
        "medium",
        "A member path contains control characters.",
        _ARCHIVE_CHECK,
        _ARCHIVE_FP,
    ),
    Rule(
        "archive.symlink",
        "archive",
        "low",
        "A symbolic link (out of the archive: high if absolute or written through, else medium).",
        _ARCHIVE_CHECK,
        _ARCHIVE_FP,
    ),
    Rule(
        "archive.hardlink",
        "archive",
        "low",
        "A hard link (high when it points outside the archive).",
        _ARCHIVE_CHECK,
        _ARCHIVE_FP,
    ),
    Rule(
        "archive.special-file",
        "archive",
        "high",
        "A device, fifo or socket entry (one level less inside a nested archive no code names).",
        _ARCHIVE_CHECK,
        _ARCHIVE_FP,
    ),
    Rule(
        "archive.encrypted",
        "archive",
        "medium",
        "An encrypted member: its content is hidden from inspection.",
        _ARCHIVE_CHECK,
        "Test fixtures for archive libraries.",
    ),
    Rule(
        "archive.zip-bomb",
        "archive",
        "high",
        "A member or the archive unpacks to far more than its size (decompression bomb).",
        "Compare the declared sizes with the archive's size.",
        "Highly compressible data (zeros, logs); the rest was not read either way.",
    ),
    Rule(
        "archive.duplicate-name",
        "archive",
        "medium",
        "The archive holds a name more than once; installers may pick either copy.",
        _ARCHIVE_CHECK,
        "Archives built by appending files twice by mistake.",
    ),
    Rule(
        "archive.truncated",
        "archive",
        "medium",
        "The archive or a member is truncated; reading stopped.",
        "Download the artifact again and compare its hash with the index's.",
        "An interrupted download.",
    ),
    Rule(
        "archive.malformed",
        "archive",
        "medium",
        "The archive or a member could not be read.",
        "Try to list the archive with tar or unzip.",
        "Unusual but valid archive features the reader does not support.",
    ),
    Rule(
        "archive.limit-members",
        "archive",
        "medium",
        "Too many members: the rest was not read.",
        _ARCHIVE_CHECK,
        "Very large honest projects (raise the limit to read them fully).",
    ),
    Rule(
        "archive.limit-total-size",
        "archive",
        "medium",
        "The archive unpacks to more than the size limit: the rest was not read.",
        _ARCHIVE_CHECK,
        "Very large honest projects (raise the limit to read them fully).",
    ),
    Rule(
        "archive.limit-member-size",
        "archive",
        "medium",
        "A member is larger than the size limit: it was not read.",
        _ARCHIVE_CHECK,
        "Large data files (models, datasets).",
    ),
    Rule(
        "archive.limit-kept-size",
        "archive",
        "medium",
        "Over the source-size limit: later files were only partly read.",
        _ARCHIVE_CHECK,
        "Very large honest projects (raise the limit to read them fully).",
    ),
    Rule(
        "archive.outside-tree",
        "archive",
        "medium",
        "A file of a source tree lies outside the tree (through a link); not read.",
        "Look at the link and where it points.",
        "Development checkouts that link shared files.",
    ),
    Rule(
        "archive.unreadable",
        "archive",
        "low",
        "A file of a source tree could not be read.",
        "Check the file's permissions.",
        "Files only their owner can read.",
    ),
)

CATALOGUE: dict[str, Rule] = {r.id: r for r in _RULES}
assert len(CATALOGUE) == len(_RULES), "a rule id is listed twice"
assert all(r.severity in SEVERITIES for r in _RULES)


# Why each category matters to someone about to install a package (``pipvet explain``).
CATEGORY_WHY = {
    "process": "Malware runs its payload as a separate process (a shell, a downloaded binary); "
    "installing or importing a library rarely needs to start one.",
    "network": "Code that talks to the network at install or import can fetch a second stage "
    "or send your data away before you ever use the package.",
    "dynamic-code": "Code built at run time cannot be read in the archive: it is how malware "
    "hides its real payload from a reviewer.",
    "credentials": "Stolen tokens, keys and wallets are what most malicious packages are after; "
    "a library touching them outside its purpose is a leak waiting to happen.",
    "persistence": "Autostart locations keep code running after the package is removed: "
    "a foothold on the machine, not a library's job.",
    "fingerprint": "Malware reads who and where it runs to pick its victims and to label what it "
    "sends home.",
    "intent": "These are the behaviours of malware itself (hiding code and running it, sending "
    "secrets away, installing a foothold), not merely capabilities.",
    "obfuscation": "Honest code has no reason to hide from its reader; obfuscation is how "
    "malicious code survives a review.",
    "install-time": "Code that runs during pip install runs with your rights before you have "
    "used, or even imported, the package.",
    "indicator": "Destinations and artefacts like these (paste sites, webhooks, raw IPs, "
    "downloaded executables) are where stolen data goes and payloads come from.",
    "archive": "An archive that is malformed or hides members can show a reviewer one thing and "
    "install another, or exhaust the tools that read it.",
    "metadata": "Metadata that disagrees with the files (names, versions, links) is a mark of "
    "typosquats and repackaged projects.",
    "analysis": "What pipvet could not read, it could not check: the file is unvetted, and "
    "hiding code from scanners is something malware does on purpose.",
}


def rule(rule_id: str) -> Rule | None:
    """The catalogue entry of a rule id, or None for an id the catalogue does not know."""
    return CATALOGUE.get(rule_id)


# What each category means to a person, strongest first: the order the reason names them in.
CAPABILITY_WORDS = {
    "intent": "weak signs of intent",
    "obfuscation": "obfuscated code",
    "credentials": "credential access",
    "persistence": "autostart locations",
    "install-time": "install-time code",
    "network": "network access",
    "process": "processes",
    "dynamic-code": "dynamic code",
    "indicator": "suspicious destinations",
    "fingerprint": "host identity",
    "archive": "archive problems",
    "metadata": "metadata oddities",
    "analysis": "unreadable files",
}


def reason(verdict: str, findings: Iterable[Finding], limit: int = 3) -> str:
    """One line saying why an artifact got its verdict; for ``risky``, the strongest capabilities
    found (by their worst effective severity, then by how strong the category is)."""
    from pipvet.core.analysis.verdict import effective_severity

    fixed = {
        "malicious": "do not install: it shows clear signs of malicious intent",
        "suspicious": "review before installing: it does things malware does",
        "clean": "nothing worth reporting",
    }
    if verdict != "risky":
        return fixed.get(verdict, "")
    worst: dict[str, int] = {}
    for f in findings:
        if f.severity == "info":
            continue
        level = SEVERITIES.index(effective_severity(f))
        worst[f.category] = max(worst.get(f.category, 0), level)
    order = list(CAPABILITY_WORDS)
    ranked = sorted(
        worst,
        key=lambda c: (-worst[c], order.index(c) if c in order else len(order)),
    )
    words = [CAPABILITY_WORDS.get(c, c) for c in ranked[:limit]]
    if not words:
        return "has capabilities worth knowing, no sign of bad intent"
    more = ", ..." if len(ranked) > limit else ""
    return f"uses {', '.join(words)}{more}; no sign of bad intent strong enough to flag"
