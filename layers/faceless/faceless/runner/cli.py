"""`faceless`: make a video on this machine with the same state machine the cloud runs.

    faceless make --topic "How bees talk" --duration 30
    faceless make --script narration.txt --format 1:1 --music dramatic
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import NoReturn, TextIO

from pydantic import ValidationError

from faceless.models import ArtStyle, CaptionStyle, ImageProviderName, MusicChoice, OptimizationLevel
from faceless.runner import interrupt
from faceless.runner.interrupt import exit_now, private_scratch

# request field -> the flag a user typed, so errors name what they can fix
FLAGS = {
    "topic": "--topic",
    "script": "--script",
    "duration_seconds": "--duration",
    "format": "--format",
    "language": "--language",
    "voice": "--voice",
    "art_style": "--art-style",
    "image_provider": "--image-provider",
    "optimization_level": "--level",
    "music": "--music",
    "caption_style": "--caption-style",
}


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, no usage dump
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="faceless", description="Generate faceless short videos.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    make = commands.add_parser("make", help="make one video from a topic or a script")
    source = make.add_mutually_exclusive_group(required=True)
    source.add_argument("--topic", help="what the video is about")
    source.add_argument("--script", metavar="FILE", help="your own narration (a text file, or - for stdin)")
    make.add_argument("--duration", type=int, default=30, metavar="SECONDS", help="15–180 (default 30; ignored with --script)")
    make.add_argument("--format", default="9:16", help="9:16, 1:1 or 16:9 (default 9:16)")
    make.add_argument("--language", default="en", help="language code (default en)")
    make.add_argument("--voice", help="voice name (default: the language's default voice)")
    make.add_argument("--art-style", default="cinematic", help=", ".join(s.value for s in ArtStyle))
    make.add_argument("--image-provider", default="auto", help=", ".join(s.value for s in ImageProviderName))
    make.add_argument("--level", default="auto", help=", ".join(s.value for s in OptimizationLevel))
    make.add_argument("--music", default="on", help=", ".join(s.value for s in MusicChoice))
    make.add_argument("--caption-style", default="bold", help=", ".join(s.value for s in CaptionStyle))
    make.add_argument("--out", default=None, metavar="DIR", help="output folder (default ./faceless-output or $FACELESS_HOME)")
    make.add_argument("--verbose", action="store_true", help="show the functions' logs")
    serve = commands.add_parser("serve", help="serve the HTTP API on this machine (the cloud's handlers)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--out", default=None, metavar="DIR", help="output folder (default ./faceless-output or $FACELESS_HOME)")
    serve.add_argument("--verbose", action="store_true", help="show the functions' logs")
    tenant = commands.add_parser("tenant", help="API tenants in the deployed stack's tenants table")
    tenant_commands = tenant.add_subparsers(dest="tenant_command", metavar="ACTION", parser_class=_Parser)
    tenant_commands.required = True
    tenant_create = tenant_commands.add_parser("create", help="create a tenant and print its API key once")
    tenant_create.add_argument("--name", required=True, help="who the tenant is")
    tenant_create.add_argument("--table", default=None, help="tenants table (default $FACELESS_TENANTS_TABLE)")
    voices = commands.add_parser("voices", help="list the voices (offline espeak-ng; edge-tts when configured)")
    voices.add_argument("--language", default=None, help="only voices for this language code (en, pt-BR, ...)")
    batch = commands.add_parser("batch", help="make one video per row of a manifest (.csv with a header row, or a .json array)")
    batch.add_argument("manifest", help="the manifest file: one video request per row")
    batch.add_argument("--max-concurrency", type=int, default=None, metavar="N", help="videos made at once (default: the template's BatchMaxConcurrency)")
    batch.add_argument("--out", default=None, metavar="DIR", help="output folder (default ./faceless-output or $FACELESS_HOME)")
    batch.add_argument("--verbose", action="store_true", help="show the functions' logs")
    return parser


def _request_fields(args: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {
        "duration_seconds": args.duration,
        "format": args.format,
        "language": args.language,
        "voice": args.voice,
        "art_style": args.art_style,
        "image_provider": args.image_provider,
        "optimization_level": args.level,
        "music": args.music,
        "caption_style": args.caption_style,
    }
    if args.topic is not None:
        if not args.topic.strip():
            raise UsageError("--topic: is empty; say what the video is about")
        fields["topic"] = args.topic
    else:
        fields["script"] = _read_script(args.script)
        if not fields["script"].strip():
            raise UsageError(f"--script: {'standard input' if args.script == '-' else args.script} is empty")
    return fields


def _read_script(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--script: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--script: cannot read {path}: {error}") from None


def _validation_message(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "enum":
        message = f"must be one of {first['ctx']['expected']}"
    if not field:
        return message.replace("'topic'", "--topic").replace("'script'", "--script")
    return f"{FLAGS.get(field, field)}: {message}"


def _check_voice(speech, request) -> None:
    """A language or voice the speech provider lacks is a typo to fix, not a job to start and fail."""
    from faceless.errors import InvalidRequestError

    # the language alone first (a named voice would stand in for it), so the error names the right flag
    checks = [("--language", None)] + ([("--voice", request.voice)] if request.voice else [])
    for flag, voice in checks:
        try:
            speech.check_voice(request.language, voice)
        except InvalidRequestError as error:
            raise UsageError(f"{flag}: {error}") from None


def _check_captions(request) -> None:
    """Text whose captions would be boxes (no shipped face draws its script) is refused up front."""
    from faceless.media.scripts import undrawable_captions

    if problem := undrawable_captions(request.script, request.language):
        field, message = problem
        raise UsageError(f"{FLAGS[field]}: {message}")


def _configure_environment(args: argparse.Namespace) -> None:
    if args.out:
        os.environ["FACELESS_HOME"] = args.out
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "DEBUG" if args.verbose else "ERROR")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class ProgressDisplay:
    """A live line on a terminal; one line per stage change otherwise (CI logs, pipes)."""

    def __init__(self, tracker, stream: TextIO) -> None:
        self.tracker = tracker
        self.stream = stream
        self.live = stream.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._last = ""
        self.started = time.monotonic()

    def __enter__(self) -> ProgressDisplay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._draw(final=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self._draw()

    def _draw(self, final: bool = False) -> None:
        snap = self.tracker.snapshot()
        elapsed = time.monotonic() - self.started
        bar = "#" * (snap.percent // 5) + "." * (20 - snap.percent // 5)
        detail = f" ({snap.detail})" if snap.detail else ""
        if self.live:
            self.stream.write(f"\r[{bar}] {snap.percent:3d}%  {snap.stage}{detail}  {elapsed:5.1f}s\x1b[K")
            if final:
                self.stream.write("\n")
        else:
            line = f"[{snap.percent:3d}%] {snap.stage}{detail}"
            if line != self._last:
                self.stream.write(f"{line}  ({elapsed:.1f}s)\n")
                self._last = line
        self.stream.flush()


def cmd_make(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from faceless.models import VideoRequest

    try:
        request = VideoRequest.model_validate(_request_fields(args))
    except ValidationError as error:
        raise UsageError(_validation_message(error)) from None
    _configure_environment(args)

    from faceless.bootstrap import build_services, use_services
    from faceless.errors import ConfigurationError
    from faceless.pipeline import readable_cause
    from faceless.providers.llm.offline import english_outline_note
    from faceless.runner.embedded import EmbeddedRunner
    from faceless.runner.local import make_video, new_job_id, record_interruption
    from faceless.runner.progress import ProgressTracker
    from faceless.settings import Settings

    try:
        services = build_services(Settings.from_env())
    except ConfigurationError as error:
        raise UsageError(str(error)) from None
    _check_voice(services.speech, request)
    _check_captions(request)
    use_services(services)
    tracker = ProgressTracker()
    llm = f"{services.llm.name} ({services.llm.model})"
    err.write(f"Making a {request.format.value} video with the {llm} language model…\n")
    if services.llm.name == "offline":
        if note := english_outline_note(request, "set OPENAI_API_KEY or give your own --script."):
            err.write(f"Note: {note}\n")
    job_id = new_job_id()
    with private_scratch(), EmbeddedRunner(listener=tracker) as runner:
        try:
            with ProgressDisplay(tracker, err):
                run = make_video(request, runner, services, job_id=job_id)
        except KeyboardInterrupt:  # inside the runner: its threads still see moto, not AWS, until exit_now
            reached = tracker.snapshot()
            err.write(f"faceless: interrupted while {reached.stage} ({reached.percent}%); ")
            folder = record_interruption(services, job_id, reached.stage, reached.percent)
            err.write(f"what was made is in {folder}\n")
            exit_now(130, out, err)
    if not run.succeeded:
        err.write(f"faceless: the video failed: {run.execution.error}: {readable_cause(run.execution.cause or '')}\n")
        err.write(f"           job folder: {run.folder}\n")
        return 1
    out.write(render_summary(run))
    return 0


def cmd_voices(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The offline voices (always there), then edge-tts's when FACELESS_SPEECH_PROVIDER=edge (its
    list needs the network: offline we say it is unavailable and still succeed)."""
    from faceless.errors import ConfigurationError
    from faceless.providers.speech.catalog import voice_catalog
    from faceless.settings import Settings

    language = args.language.strip() if args.language else None
    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        raise UsageError(str(error)) from None
    catalog = voice_catalog(settings.speech_provider, language)
    out.write(f"Offline voices (espeak-ng){' for ' + language if language else ''}: {len(catalog.offline)}\n")
    for voice in catalog.offline:
        gender = voice["gender"] or ""
        out.write(f"  {voice['name']:<22} {voice['language']:<10} {gender:<7} {voice['description']}\n")
    if not catalog.offline:
        out.write(f"  none for {language!r}\n")
    if catalog.edge_unavailable is not None:
        out.write(f"\nedge-tts voices: unavailable ({catalog.edge_unavailable})\n")
    elif catalog.edge is not None:
        out.write(f"\nedge-tts voices{' for ' + language if language else ''}: {len(catalog.edge)}\n")
        for voice in catalog.edge:
            out.write(f"  {voice['name']:<34} {voice['language']:<10} {voice['gender'] or '':<7}\n")
    return 0


def cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The batch state machine on this machine: videos and reports/<name>.json land in the output folder."""
    path = Path(args.manifest)
    if not path.is_file():
        raise UsageError(f"no such manifest: {args.manifest}")
    if args.max_concurrency is not None and not 1 <= args.max_concurrency <= 100:
        raise UsageError("--max-concurrency: must be between 1 and 100")
    _configure_environment(args)
    from faceless.batch import naming
    from faceless.batch.local import BatchProgress, record_batch_interruption, render_report, run_manifest, upload_manifest
    from faceless.bootstrap import build_services, use_services
    from faceless.errors import ConfigurationError, InvalidManifestError
    from faceless.runner.embedded import EmbeddedRunner
    from faceless.settings import Settings

    progress = BatchProgress(err)
    try:
        use_services(services := build_services(Settings.from_env()))
        err.write(f"Running {path.name} through the batch state machine…\n")
        with private_scratch(), EmbeddedRunner(listener=progress, keep_invocations=False) as runner:
            manifest = upload_manifest(path)
            try:
                run = run_manifest(manifest, runner, services, max_concurrency=args.max_concurrency)
            except KeyboardInterrupt:  # inside the runner: its threads still see moto, not AWS, until exit_now
                report = record_batch_interruption(manifest, services, progress)
                where = f"; report: {services.store.describe(naming.report_key(manifest.key))}" if report else ""
                if report is not None:
                    out.write(render_report(report))
                err.write(f"faceless: the batch was interrupted{where}\n")
                exit_now(130, out, err)
    except (ConfigurationError, InvalidManifestError) as error:
        raise UsageError(str(error)) from None
    if run.report is None:
        err.write(f"faceless: the batch failed: {run.execution.error}: {run.execution.cause}\n")
        return 1
    out.write(render_report(run.report) + f"Report: {run.report_path}\n")
    return 0 if run.report.status == "succeeded" else 1


def render_summary(run) -> str:
    meta = run.metadata
    lines = [f"\nDone: {meta.title!r} ({meta.duration_seconds:.1f} s, {meta.plan.width}x{meta.plan.height})"]
    # what a creator pastes when posting it
    lines += [f"Description: {meta.description}", f"Hashtags: {' '.join(meta.hashtags) or 'none'}", ""]
    lines.append(f"Outputs in {run.folder}/")
    for name in ("video.mp4", "captions.srt", "captions.vtt", "thumbnail.jpg", "script.json", "metadata.json"):
        lines.append(f"  {name}")
    lines += ["", "Wall time per stage:"]
    for timing in meta.timings:
        lines.append(f"  {timing.stage:<10} {timing.seconds:7.2f} s")
    lines.append(f"  {'total':<10} {run.execution.seconds:7.2f} s")
    lines += ["", "Tokens per agent (prompt + completion):"]
    if not meta.tokens_by_agent:
        lines.append("  none")
    total_in = total_out = 0
    for agent, row in meta.tokens_by_agent.items():
        total_in += row["prompt_tokens"]
        total_out += row["completion_tokens"]
        lines.append(f"  {agent:<12} {row['prompt_tokens']:6d} + {row['completion_tokens']:5d}   ({row['calls']} call{'s' if row['calls'] != 1 else ''})")
    lines.append(f"  {'total':<12} {total_in:6d} + {total_out:5d} = {total_in + total_out} tokens")
    cost = meta.cost
    lines += [
        "",
        f"Estimated cost: ${cost.total_usd:.4f}  (LLM ${cost.llm_usd:.4f}, images ${cost.images_usd:.4f}, "
        f"speech ${cost.speech_usd:.4f}, compute ${cost.compute_usd:.4f})",
        "",
    ]
    if any(meta.paid_calls.values()) or any(meta.cache_hits.values()):
        kinds = ("llm", "images", "speech")
        paid = ", ".join(f"{kind} {meta.paid_calls.get(kind, 0)}" for kind in kinds)
        hits = ", ".join(f"{kind} {meta.cache_hits.get(kind, 0)}" for kind in kinds)
        lines[-1:-1] = [f"Paid calls: {paid}   (answered by the cache: {hits})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        if args.command == "make":
            return cmd_make(args, out, err)
        if args.command == "batch":
            return cmd_batch(args, out, err)
        if args.command == "serve":
            from faceless.runner.serve import cmd_serve

            _configure_environment(args)
            return cmd_serve(args.host, args.port, out, err)
        if args.command == "tenant":
            from faceless.errors import ConfigurationError, InvalidRequestError
            from faceless.tenants import create_tenant_command

            try:
                create_tenant_command(args.name, args.table, out)
            except (ConfigurationError, InvalidRequestError) as error:
                raise UsageError(str(error)) from None
            return 0
        if args.command == "voices":
            return cmd_voices(args, out, err)
    except UsageError as error:
        err.write(f"faceless: error: {error}\n")
        return 2
    except KeyboardInterrupt:
        err.write("faceless: interrupted\n")
        if interrupt.running():  # a batch was running: stop it as `make` stops (exit_now)
            exit_now(130, out, err)
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
