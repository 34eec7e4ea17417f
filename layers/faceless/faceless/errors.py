"""Exceptions. Their class names are what the state machine's Retry and Catch match on
(a Lambda's `errorType` is the exception's class name), so rename nothing without the ASL."""


class FacelessError(Exception):
    """Base of every error we raise on purpose."""


class InvalidRequestError(FacelessError):
    """The input is wrong; retrying cannot help."""


class ConfigurationError(FacelessError):
    """A setting is missing or wrong (a key, a model, a path)."""


class TransientProviderError(FacelessError):
    """A provider failed in a way that a retry may fix (timeout, 5xx, dropped connection)."""


class ProviderThrottledError(TransientProviderError):
    """A provider asked us to slow down (429)."""


class ProviderResponseError(TransientProviderError):
    """A provider answered, but not with what the contract asks (malformed JSON, wrong schema)."""


class ProviderRejectedError(FacelessError):
    """A provider refused the request for good (content policy, auth, bad parameters)."""


class RenderError(FacelessError):
    """ffmpeg or the media pipeline failed."""


class BlobNotFoundError(FacelessError):
    """A blob-store key does not exist."""


class InvalidManifestError(InvalidRequestError):
    """A batch manifest cannot be read as a whole (not CSV/JSON, too big, changed since upload)."""


class VideoStillRunningError(FacelessError):
    """A batch row's video execution already exists and is still running (the batch machine retries)."""


# Names the ASL retries with backoff; kept here so a test can check the ASL against them.
RETRYABLE_ERRORS = ("TransientProviderError", "ProviderThrottledError", "ProviderResponseError")
