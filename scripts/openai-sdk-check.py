"""Drives Cairn's OpenAI-compatible front door with the official `openai` Python SDK.

Run by the gateway's process test (Tests/CairnServerTests/Process/GatewayProcessTests.swift)
against a real `cairn serve`, with OPENAI_BASE_URL pointing at …/openai/v1 and OPENAI_API_KEY
holding a Cairn API key. Each check asserts what a client would rely on; the last line printed
is one JSON object the Swift test reads (the local embedding, to compare with the native model).

Usage: openai-sdk-check.py CHAT_MODEL EMBEDDING_MODEL
"""

import json
import sys

import openai

chat_model, embedding_model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(max_retries=0, timeout=60)
report = {}

# Chat, non-streaming.
completion = client.chat.completions.create(
    model=chat_model, messages=[{"role": "user", "content": "What is the KYC refresh period?"}], max_tokens=64
)
assert completion.choices[0].message.content, completion
assert completion.choices[0].finish_reason in ("stop", "length"), completion
assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0, completion.usage
assert completion.model == chat_model, completion.model
report["chat"] = completion.choices[0].message.content

# Chat, streaming, with usage.
pieces, usage, finish = [], None, None
with client.chat.completions.create(
    model=chat_model,
    messages=[{"role": "user", "content": "Stream the KYC refresh period please"}],
    stream=True,
    stream_options={"include_usage": True},
) as stream:
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
streamed = "".join(pieces)
assert len([p for p in pieces if p]) > 1, f"one piece only: {pieces}"
assert streamed, pieces
assert finish == "stop", finish
assert usage and usage.completion_tokens > 0, usage
report["stream"] = streamed

# A tool-call round trip: the model calls the tool, the caller answers, the model replies.
tools = [
    {
        "type": "function",
        "function": {
            "name": "lookup_policy",
            "description": "Finds a policy section",
            "parameters": {
                "type": "object",
                "properties": {"topic": {"type": "string"}, "max_results": {"type": "integer", "minimum": 1}},
                "required": ["topic", "max_results"],
            },
        },
    }
]
messages = [{"role": "user", "content": "Find the sanctions screening policy"}]
first = client.chat.completions.create(model=chat_model, messages=messages, tools=tools)
call = first.choices[0].message.tool_calls[0]
assert first.choices[0].finish_reason == "tool_calls", first
assert call.function.name == "lookup_policy", call
arguments = json.loads(call.function.arguments)
assert isinstance(arguments["topic"], str) and arguments["max_results"] >= 1, arguments
messages.append(first.choices[0].message.model_dump(exclude_none=True))
messages.append({"role": "tool", "tool_call_id": call.id, "content": "Section 4.2: screen at onboarding and daily."})
second = client.chat.completions.create(model=chat_model, messages=messages, tools=tools)
assert "Section 4.2" in second.choices[0].message.content, second
report["tool_round_trip"] = second.choices[0].message.content

# Streamed tool-call deltas assemble into the same call.
fragments, name = [], None
for chunk in client.chat.completions.create(model=chat_model, messages=messages[:1], tools=tools, stream=True):
    for choice in chunk.choices:
        for delta in choice.delta.tool_calls or []:
            name = delta.function.name or name
            fragments.append(delta.function.arguments or "")
assert name == "lookup_policy", name
assert json.loads("".join(fragments))["max_results"] >= 1, fragments

# response_format with a JSON schema.
schema = {
    "type": "object",
    "properties": {
        "risk": {"type": "string", "enum": ["low", "medium", "high"]},
        "reasons": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["risk", "reasons"],
    "additionalProperties": False,
}
structured = client.chat.completions.create(
    model=chat_model,
    messages=[{"role": "user", "content": "Rate this customer's risk"}],
    response_format={"type": "json_schema", "json_schema": {"name": "risk", "schema": schema, "strict": True}},
)
parsed = json.loads(structured.choices[0].message.content)
assert parsed["risk"] in ("low", "medium", "high") and len(parsed["reasons"]) >= 1, parsed
report["structured"] = parsed

# Embeddings from the local model.
embedded = client.embeddings.create(model=embedding_model, input=["The weather is lovely today.", "He drove to the stadium."])
assert len(embedded.data) == 2, embedded
assert all(len(item.embedding) == 384 for item in embedded.data), [len(item.embedding) for item in embedded.data]
report["embeddings"] = [item.embedding for item in embedded.data]

# Listing models.
listed = [model.id for model in client.models.list()]
assert chat_model in listed and embedding_model in listed, listed
report["models"] = listed

# A bad request is an SDK error carrying Cairn's sentence, not a crash.
try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    raise AssertionError("an unknown model was accepted")
except openai.NotFoundError as error:
    assert "no-such-model" in str(error), str(error)

print(json.dumps(report))
