"""``GET /v1/models`` and ``GET /v1/models/{model}``."""

from __future__ import annotations

from aiohttp import web

from ..errors import ApiError
from ..state import EmulatorState
from .common import respond_json

CREATED = 1_715_367_049


def _model(model_id: str) -> dict[str, object]:
    return {"id": model_id, "object": "model", "created": CREATED, "owned_by": "system"}


def _record(state: EmulatorState, request: web.Request) -> None:
    state.recorder.add(request.method, request.path, request.query, request.headers)


async def list_models(
    state: EmulatorState, model_ids: list[str], request: web.Request
) -> web.Response:
    """List the emulator's models (``emu.models``)."""
    _record(state, request)
    data = {"object": "list", "data": [_model(model_id) for model_id in model_ids]}
    return respond_json(state, request, data, "ListModelsResponse")


async def retrieve_model(
    state: EmulatorState, model_ids: list[str], request: web.Request
) -> web.Response:
    """Describe one model, or 404 ``model_not_found``."""
    _record(state, request)
    model_id = request.match_info["model"]
    if model_id not in model_ids:
        raise ApiError(
            404,
            f"The model '{model_id}' does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    return respond_json(state, request, _model(model_id), "Model")
