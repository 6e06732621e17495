"""
What a scrape of /metrics returns, read as Prometheus reads its text.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from chat.app.version import version

PROCESS_FAMILIES = {
    "process_virtual_memory_bytes": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_cpu_seconds": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "python_info": "gauge",
}
"""The process's own families, as the Prometheus client library names them."""


def families(text: str) -> dict[str, tuple[str, dict[str, float]]]:
    """
    The metric families of C{text}, in the Prometheus text format: each
    name's type and samples, as the Prometheus client library parses them.
    """
    parsed = {}
    for family in text_string_to_metric_families(text):
        samples = {}
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = (
                sample.value
            )
        parsed[family.name] = (family.type, samples)
    return parsed


def checkFamilies(parsed: dict[str, tuple[str, dict[str, float]]]) -> None:
    """
    C{parsed} has the process's families, the server's version as
    C{chat_build_info}, and no C{_created} series.
    """
    for name, kind in PROCESS_FAMILIES.items():
        assert parsed[name][0] == kind, name
    assert parsed["chat_build_info"] == (
        "gauge",
        {f'chat_build_info{{version="{version()}"}}': 1.0},
    )
    assert parsed["chat_connections"][0] == "counter"
    created = [
        sample
        for _, samples in parsed.values()
        for sample in samples
        if "_created" in sample
    ]
    assert created == []
