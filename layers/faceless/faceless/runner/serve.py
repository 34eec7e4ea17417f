"""`faceless serve`: the HTTP API on this machine, answered by the very handlers the cloud runs.

A stdlib ThreadingHTTPServer plays API Gateway (HTTP API, payload 2.0): it matches the routes that
template.yaml gives the api function, calls the authorizer function the template names (a missing
`Authorization` header is a 401 without calling it, as API Gateway does), turns each request into an
HTTP API v2 event and the handler's answer back into HTTP. Videos run in one embedded runner for the
server's lifetime (moto's Step Functions interpreter, whose mock also holds the DynamoDB tables).
Outputs download through HMAC-signed, expiring URLs that this server answers from the blob folder.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import re
import secrets
import shutil
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from faceless.runner.project import ACCOUNT, REGION, find_project_root, load_template

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
API_ID = "local"
LOCAL_TENANT = "local"
WATCH_SECONDS = 1.0  # how often the folder is read for videos other processes started or are making


# --------------------------------------------------------------------------- routes from the template


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the template writes it: /videos/{video_id}
    pattern: re.Pattern[str]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class ApiSpec:
    function: str  # logical id of the function the routes integrate
    authorizer: str | None  # logical id of the Lambda authorizer function
    routes: list[Route]


def _route(method: str, path: str) -> Route:
    regex = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") and part.endswith("}") else re.escape(part)
        for part in re.split(r"(\{[^}]+\})", path)
    )
    return Route(method.upper(), path, re.compile(f"^{regex}$"))


def read_api_spec(root: Path) -> ApiSpec:
    """The HttpApi routes (function events of type HttpApi) and its default authorizer function."""
    resources = load_template(root / "template.yaml").get("Resources", {})
    routes: list[Route] = []
    function = None
    for logical_id, resource in resources.items():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                props = event.get("Properties", {})
                routes.append(_route(props.get("Method", "ANY"), props["Path"]))
                function = logical_id
    authorizer = None
    for resource in resources.values():
        if resource.get("Type") == "AWS::Serverless::HttpApi":
            auth = (resource.get("Properties") or {}).get("Auth") or {}
            spec = (auth.get("Authorizers") or {}).get(auth.get("DefaultAuthorizer"), {})
            arn = spec.get("FunctionArn")
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                authorizer = arn["Fn::GetAtt"][0]
    if function is None:
        raise LookupError("template.yaml has no function with HttpApi events")
    # literal paths before templated ones, as API Gateway prefers the most specific route
    routes.sort(key=lambda r: ("{" in r.path, r.path))
    return ApiSpec(function=function, authorizer=authorizer, routes=routes)


# --------------------------------------------------------------------------- HTTP <-> API Gateway events


def _now() -> tuple[str, int]:
    now = datetime.now(UTC)
    return now.strftime("%d/%b/%Y:%H:%M:%S +0000"), int(now.timestamp() * 1000)


def http_api_event(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, host: str, source_ip: str,
    route: Route | None = None, path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API payload-2.0 event as API Gateway sends it to a Lambda integration."""
    split = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    merged.setdefault("x-forwarded-proto", "http")
    merged.setdefault("x-forwarded-for", source_ip)
    query: dict[str, str] = {}
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    when, epoch = _now()
    route_key = route.key if route else "$default"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "routeKey": route_key,
            "stage": "$default",
            "time": when,
            "timeEpoch": epoch,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def authorizer_event(request_event: dict[str, Any], route: Route) -> dict[str, Any]:
    """The REQUEST authorizer event (payload 2.0) for a request, identity = the Authorization header."""
    method = request_event["requestContext"]["http"]["method"]
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/$default/{method}{request_event['rawPath']}",
        "identitySource": [request_event["headers"].get("authorization", "")],
        "routeKey": route.key,
        "rawPath": request_event["rawPath"],
        "rawQueryString": request_event["rawQueryString"],
        **({"cookies": request_event["cookies"]} if "cookies" in request_event else {}),
        "headers": request_event["headers"],
        "queryStringParameters": request_event.get("queryStringParameters", {}),
        "requestContext": request_event["requestContext"],
        "pathParameters": request_event.get("pathParameters", {}),
        "stageVariables": {},
    }


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str]


def gateway_answer(status: int, message: str) -> HttpAnswer:
    """API Gateway's own answers (no route, unauthorized, ...): {"message": ...}."""
    return HttpAnswer(status, {"Content-Type": "application/json"}, json.dumps({"message": message}).encode(), [])


def lambda_answer(result: Any) -> HttpAnswer:
    """A payload-2.0 Lambda result as API Gateway turns it into HTTP."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpAnswer(200, {"Content-Type": "application/json"}, json.dumps(result).encode(), [])
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(str(v) for v in values)
    return HttpAnswer(int(result["statusCode"]), headers, raw, list(result.get("cookies") or []))


# --------------------------------------------------------------------------- the local API Gateway


class LocalGateway:
    """Routes a request to the authorizer and the api handler, one call at a time per handler (as
    one Lambda instance runs one event at a time; powertools keeps the current event on the router)."""

    def __init__(self, runner: Any, spec: ApiSpec) -> None:
        from faceless.runner.embedded import LambdaContext

        self.runner, self.spec = runner, spec
        self._context = LambdaContext
        self._locks = {name: threading.Lock() for name in (spec.function, spec.authorizer) if name}

    def _call(self, logical_id: str, event: dict[str, Any]) -> Any:
        handler = self.runner.handler(logical_id)
        spec = self.runner.project.functions[logical_id]
        with self._locks[logical_id]:
            return handler(event, self._context(function_name=logical_id, invoked_function_arn=spec.arn))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.spec.routes:
            found = route.pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    def answer(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, host: str, source_ip: str) -> HttpAnswer:
        path = urlsplit(target).path
        matched = self.match(method, path)
        if matched is None:
            return gateway_answer(404, "Not Found")
        route, found = matched
        params = {name: unquote(value) for name, value in found.items()}  # API Gateway decodes them
        event = http_api_event(method, target, headers, body, host, source_ip, route, params)
        if self.spec.authorizer:
            if not event["headers"].get("authorization"):
                return gateway_answer(401, "Unauthorized")  # identity source missing: not even asked
            try:
                verdict = self._call(self.spec.authorizer, authorizer_event(event, route))
            except Exception as error:  # noqa: BLE001 - as API Gateway maps an authorizer's error
                if str(error) == "Unauthorized":
                    return gateway_answer(401, "Unauthorized")
                return gateway_answer(500, "Internal Server Error")
            if not isinstance(verdict, dict) or not verdict.get("isAuthorized"):
                return gateway_answer(403, "Forbidden")
            event["requestContext"]["authorizer"] = {"lambda": verdict.get("context") or {}}
        try:
            return lambda_answer(self._call(self.spec.function, event))
        except Exception:  # noqa: BLE001 - a Lambda that raised is a 500 at the gateway
            return gateway_answer(500, "Internal Server Error")


def _request_handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    from faceless.api.urls import FILES_PATH

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "faceless-serve"

        def _handle(self) -> None:
            started = time.monotonic()
            method = self.command.upper()
            if urlsplit(self.path).path.startswith(FILES_PATH) and method in ("GET", "HEAD"):
                status = self._download(method == "HEAD")
            else:
                status = self._api(method)
            server.log(f"{method} {urlsplit(self.path).path} {status} {time.monotonic() - started:.3f}s")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

        def do_HEAD(self) -> None:  # noqa: N802
            self._handle()

        def _api(self, method: str) -> int:
            length = self.headers.get("Content-Length")
            try:
                size = int(length) if length else 0
            except ValueError:
                size = -1
            if size < 0:
                self.close_connection = True
                return self._send(gateway_answer(400, "Bad Request"))
            if size > MAX_REQUEST_BYTES:
                self.close_connection = True
                return self._send(gateway_answer(413, "Request Entity Too Large"))
            body = self.rfile.read(size) if size else b""
            host = self.headers.get("Host") or f"{server.host}:{server.port}"
            answer = server.gateway.answer(method, self.path, list(self.headers.items()), body, host, self.client_address[0])
            return self._send(answer, head=method == "HEAD")

        def _download(self, head: bool) -> int:
            split = urlsplit(self.path)
            query = dict(parse_qsl(split.query))
            key = server.signer.verify(split.path, query.get("expires"), query.get("signature"))
            if key is None:
                return self._send(gateway_answer(403, "the download link is invalid or expired"))
            try:
                path = server.store.local_path(key)
            except Exception:  # noqa: BLE001 - a missing or malformed key is simply not there
                return self._send(gateway_answer(404, "Not Found"))
            self.send_response(200)
            self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
            self.send_header("Content-Length", str(path.stat().st_size))
            self.send_header("Content-Disposition", f'inline; filename="{path.name}"')
            self.end_headers()
            if not head:
                with path.open("rb") as handle:
                    shutil.copyfileobj(handle, self.wfile)
            return 200

        def _send(self, answer: HttpAnswer, head: bool = False) -> int:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            for cookie in answer.cookies:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if not head:
                self.wfile.write(answer.body)
            return answer.status

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - our own line instead
            pass

    return Handler


class LocalServer:
    """The local API: `with LocalServer(...) as server: server.url`. Blocks nothing until
    `serve_forever()`; `start()` serves on a background thread instead (tests)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8080, api_key: str | None = None,
        settings: Any = None, log: TextIO | None = None, project_root: Path | None = None,
    ) -> None:
        self.host, self.requested_port = host, port
        self.api_key = api_key or os.environ.get("FACELESS_API_KEY") or None
        self.generated_key = self.api_key is None
        self._settings = settings
        self._log = log
        self.root = project_root or find_project_root()
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self._httpd: ThreadingHTTPServer | None = None
        self.recovered = 0  # videos found in the folder at start (an earlier server's, `faceless make`'s)
        self.being_made_elsewhere = 0  # of those, the ones another live process was making
        self._watch: Any = None  # runner.local.FolderWatch: the folder's videos in the table, kept in step
        self._closing = threading.Event()  # set when the server closes: stop watching the folder
        self._watcher: threading.Thread | None = None

    def log(self, line: str) -> None:
        if self._log is not None:
            self._log.write(line + "\n")
            self._log.flush()

    def __enter__(self) -> LocalServer:
        from faceless.api.context import ApiContext, use_api_context
        from faceless.api.tables import create_tables, with_local_tables
        from faceless.bootstrap import build_services, use_services
        from faceless.errors import ConfigurationError
        from faceless.runner.embedded import EmbeddedRunner
        from faceless.settings import Settings

        settings = self._settings or Settings.from_env()
        if settings.blob_store != "local":
            raise ConfigurationError("faceless serve keeps blobs in a local folder: unset FACELESS_BLOB_STORE")
        settings = with_local_tables(settings).model_copy(
            update={"region": REGION, "url_secret": settings.url_secret or secrets.token_hex(32)}
        )
        spec = read_api_spec(self.root)
        self._runner = EmbeddedRunner(project_root=self.root, keep_invocations=False).__enter__()
        try:
            create_tables(settings)
            settings = settings.model_copy(
                update={"video_state_machine_arn": self._runner.state_machine_arn("VideoStateMachine")}
            )
            self.settings = settings
            self.services = build_services(settings)
            use_services(self.services)
            self.context = ApiContext(settings).warm()
            use_api_context(self.context)
            self.api_key = self.api_key or _new_key()
            self.context.tenants.create(LOCAL_TENANT, tenant_id=LOCAL_TENANT, api_key=self.api_key)
            from faceless.runner.local import FolderWatch

            self._watch = FolderWatch(self.services, LOCAL_TENANT)
            self.recovered = self._watch.scan()  # its tables start empty; the folder does not
            self.being_made_elsewhere = len(self._watch.being_made)
            self._watcher = threading.Thread(target=self._watch_folder, daemon=True, name="faceless-watch")
            self._watcher.start()
            self.store = self.services.store
            self.signer = self.context.urls
            self.gateway = LocalGateway(self._runner, spec)
            # load both handlers now, on this thread
            self._runner.handler(spec.function)
            if spec.authorizer:
                self._runner.handler(spec.authorizer)
            self._httpd = ThreadingHTTPServer((self.host, self.requested_port), _request_handler(self))
            self._httpd.daemon_threads = True
        except BaseException:
            self.close()
            raise
        return self

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self.requested_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        assert self._httpd is not None
        self._httpd.serve_forever(poll_interval=0.2)

    def start(self) -> LocalServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="faceless-serve")
        self._thread.start()
        return self

    def videos_in_progress(self) -> list[str]:
        """The ids of the videos being made (running executions of the video machine, named by them)."""
        if self._runner is None:
            return []
        arn = self._runner.state_machine_arn("VideoStateMachine")
        running = self._runner.sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
        return [execution["name"] for execution in running]

    def record_abandoned(self, video_ids: list[str]) -> None:
        """Videos left unmade by the server stopping: failed, Interrupted, with where each had got to (its
        status.json, which the next server reads), not "running" forever; no step still running writes after."""
        from faceless.pipeline import mark_interrupted

        self.services.store.hold_writes()
        for video_id in video_ids:
            record = self.services.jobs.get(LOCAL_TENANT, video_id) if self.services.jobs else None
            stage, percent = (record.stage or "queued", record.progress) if record else ("queued", 0)
            cause = f"the server stopped while it was being made ({stage}, {percent}%)"
            mark_interrupted(self.services, video_id, LOCAL_TENANT, cause, percent)

    def _watch_folder(self) -> None:
        """Keep the table in step with the folder while the server runs: the videos another process
        starts there (`faceless make`, `batch`) appear, and those it is making follow its progress."""
        while not self._closing.wait(WATCH_SECONDS):
            try:
                self._watch.scan()
                self._watch.follow()
            except Exception as exc:  # noqa: BLE001 - a half-written folder: read again next time
                self.log(f"reading the folder for videos made elsewhere: {exc}")

    def close(self) -> None:
        from faceless.api.context import use_api_context
        from faceless.bootstrap import use_services

        self._closing.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
                self._thread.join(timeout=5)
            self._httpd.server_close()
            self._httpd = None
        use_api_context(None)
        use_services(None)
        if self._runner is not None:
            self._runner.__exit__(None, None, None)
            self._runner = None

    def __exit__(self, *exc: object) -> None:
        self.close()

    def banner(self) -> str:
        key_line = (
            f"API key (generated; set FACELESS_API_KEY to choose one): {self.api_key}"
            if self.generated_key
            else "API key: the value of FACELESS_API_KEY"
        )
        key = self.api_key if self.generated_key else "$FACELESS_API_KEY"
        lines = [
            f"Faceless API on {self.url}  (tenant {LOCAL_TENANT!r}; outputs in {self.settings.home.resolve()})",
            key_line,
            "",
            "Try:",
            f"  curl -s -X POST {self.url}/videos -H \"Authorization: Bearer {key}\" \\",
            "       -H 'Content-Type: application/json' -d '{\"topic\": \"How volcanoes form\", \"duration_seconds\": 15}'",
            f"  curl -s {self.url}/videos/VIDEO_ID -H \"Authorization: Bearer {key}\"",
            "",
            "Ctrl-C stops the server.",
        ]
        if self.recovered:
            elsewhere = self.being_made_elsewhere
            being_made = f" ({elsewhere} still being made by another faceless process)" if elsewhere else ""
            lines.insert(2, f"{self.recovered} video(s) already in the folder{being_made}: GET /videos lists them")
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            lines.insert(1, f"WARNING: listening on {self.host}, not only on this machine's loopback")
        return "\n".join(lines) + "\n"


def _new_key() -> str:
    from faceless.tenants import new_api_key

    return new_api_key()


def cmd_serve(host: str, port: int, out: TextIO, err: TextIO) -> int:
    """The `faceless serve` command; returns the exit status."""
    from faceless.errors import FacelessError
    from faceless.runner.interrupt import exit_now, private_scratch

    try:
        server = LocalServer(host=host, port=port, log=err).__enter__()
    except OSError as error:
        err.write(f"faceless: error: cannot listen on {host}:{port}: {error.strerror or error}\n")
        return 2
    except FacelessError as error:  # a setting (FACELESS_API_KEY too short, FACELESS_BLOB_STORE=s3, ...)
        err.write(f"faceless: error: {error}\n")
        return 2
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # a service manager's stop is a clean stop too
    with private_scratch():
        try:
            out.write(server.banner())
            out.flush()
            server.serve_forever()
        except KeyboardInterrupt:
            if abandoned := server.videos_in_progress():
                server.record_abandoned(abandoned)
                err.write(f"faceless: stopped; {len(abandoned)} video(s) still being made were abandoned\n")
                exit_now(0, out, err)  # not close(): it would stop moto under the running videos
            err.write("faceless: stopped\n")
        finally:
            server.close()
    return 0
