"""The pod store and a pod with one saved Workcontext, shared by the pod tests; a
module that needs another pod defines its own ``pod``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pod import UnlockedPod
from pod.store import PodStore
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store


@pytest.fixture
def store(tmp_path: Path) -> PodStore:
    return pod_store(tmp_path / "pods")


@pytest.fixture
def pod(store: PodStore) -> UnlockedPod:
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=16), NOW)
    return pod
