"""An unlocked pod keeps every Workcontext version, and any ciphertext that was
changed, swapped or moved on disk fails to decrypt instead of being read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consent import Audience, read_disclosure, read_withdrawal
from pod import (
    DecryptionFailed,
    GrantNotFound,
    PodError,
    PreconditionFailed,
    UnlockedPod,
    VersionNotFound,
)
from pod.store import PodStore
from tests.factories import NOW, PASSPHRASE, full_workcontext
from tests.pod.ondisk import (
    cut_version,
    flip_in_slot,
    read_version,
    write_version,
)

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def pod(store: PodStore) -> UnlockedPod:
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=16), NOW)
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=24), LATER)
    return pod


def test_every_saved_version_is_listed_and_reads_back(store, pod):
    reopened = store.unlock(pod.did, PASSPHRASE)

    assert [(v.version, v.saved) for v in reopened.versions()] == [
        (1, "2026-12-04T12:00:00Z"), (2, "2026-12-04T13:00:00Z")]
    assert reopened.version(1)["availability"]["hoursPerWeek"] == 16
    assert reopened.version(2)["availability"]["hoursPerWeek"] == 24
    assert reopened.workcontext() == reopened.version(2)


def test_a_new_pod_has_no_workcontext(store):
    assert store.create(PASSPHRASE, NOW).workcontext() is None


@pytest.mark.parametrize("number", [0, 3, -1])
def test_a_version_that_was_never_saved_is_not_found(pod, number):
    with pytest.raises(VersionNotFound) as caught:
        pod.version(number)

    assert caught.value.version == number


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_version_with_one_changed_byte_fails_to_decrypt(pod, where):
    data = bytearray(read_version(pod, 1))
    index = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[index] ^= 0x01
    write_version(pod, 1, bytes(data))

    with pytest.raises(DecryptionFailed):
        pod.version(1)
    assert pod.version(2)["availability"]["hoursPerWeek"] == 24


@pytest.mark.parametrize("cut", [0, 10, -1])
def test_a_truncated_version_fails_to_decrypt(pod, cut):
    cut_version(pod, 2, cut)

    with pytest.raises(DecryptionFailed):
        pod.workcontext()


def test_a_changed_state_file_fails_to_decrypt(pod):
    generation = pod.read_state()["generation"]
    flip_in_slot(pod, generation)
    flip_in_slot(pod, generation - 1)

    with pytest.raises(DecryptionFailed):
        pod.versions()


def test_a_changed_newest_state_is_not_read_in_place_of_the_older_one(pod):
    # The older slot still opens, but the witness names the newer generation.
    flip_in_slot(pod, pod.read_state()["generation"])

    with pytest.raises(DecryptionFailed):
        pod.versions()


def test_two_version_files_swapped_on_disk_fail_to_decrypt(pod):
    first, second = read_version(pod, 1), read_version(pod, 2)
    assert len(first) == len(second)
    write_version(pod, 1, second)
    write_version(pod, 2, first)

    with pytest.raises(DecryptionFailed):
        pod.version(1)
    with pytest.raises(DecryptionFailed):
        pod.version(2)


def test_a_version_file_from_another_pod_fails_to_decrypt(store, pod):
    other = store.create(PASSPHRASE, NOW)
    other.save_workcontext(full_workcontext(other.did), NOW)
    write_version(pod, 1, read_version(other, 1))

    with pytest.raises(DecryptionFailed):
        pod.version(1)


def test_a_version_file_moved_onto_the_state_file_fails_to_decrypt(pod):
    (pod.directory / "state.bin").write_bytes(read_version(pod, 2))

    with pytest.raises(DecryptionFailed):
        pod.versions()


def test_a_state_file_rolled_back_on_disk_is_detected(pod):
    state = pod.directory / "state.bin"
    grant = pod.add_grant(Audience("all_municipalities"), ["matching"], ["skills"],
                          NOW + timedelta(days=30), NOW)
    before_withdrawal = state.read_bytes()
    pod.withdraw(grant.id, NOW)
    state.write_bytes(before_withdrawal)

    with pytest.raises(DecryptionFailed):
        pod.grants()


def test_a_grant_is_kept_signed_and_a_withdrawal_marks_it(pod):
    grant = pod.add_grant(Audience("all_municipalities"), ["matching"], ["skills"],
                          NOW + timedelta(days=30), NOW)

    assert pod.grant(grant.id).is_live(NOW)
    withdrawal = read_withdrawal(pod.withdraw(grant.id, LATER))

    assert withdrawal.grant_id == grant.id and withdrawal.holder == pod.did
    assert not pod.grant(grant.id).is_live(LATER)
    assert pod.live_disclosures(LATER) == []
    with pytest.raises(GrantNotFound):
        pod.withdraw("urn:uuid:00000000-0000-4000-8000-000000000000", LATER)


def test_disclosures_and_withdrawals_carry_strictly_increasing_sequences(pod):
    grant = pod.add_grant(Audience("all_municipalities"), ["matching"], ["skills"],
                          NOW + timedelta(days=30), NOW)

    sequences = [read_disclosure(pod.disclosure(grant, NOW)).sequence,
                 read_disclosure(pod.live_disclosures(NOW)[0]).sequence,
                 read_withdrawal(pod.withdraw(grant.id, NOW)).sequence]

    assert sequences == sorted(set(sequences))


def test_the_pod_refuses_to_disclose_under_a_withdrawn_grant(pod):
    grant = pod.add_grant(Audience("all_municipalities"), ["matching"], ["skills"],
                          NOW + timedelta(days=30), NOW)
    pod.withdraw(grant.id, NOW)

    with pytest.raises(PodError):
        pod.disclosure(grant, LATER)


def test_restoring_a_version_saves_it_again_as_the_newest(pod):
    number = pod.restore(1, LATER)

    assert number == 3
    assert pod.workcontext() == pod.version(1)
    assert [v.version for v in pod.versions()] == [1, 2, 3]


def test_a_write_with_the_current_etag_succeeds_and_a_stale_one_is_refused(pod):
    current = pod.etag()
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=32), LATER,
                         if_match=current)

    with pytest.raises(PreconditionFailed) as caught:
        pod.save_workcontext(full_workcontext(pod.did, hours_per_week=8), LATER,
                             if_match=current)

    assert caught.value.status == 412 and caught.value.current == pod.etag()
    assert pod.workcontext()["availability"]["hoursPerWeek"] == 32


def test_if_match_any_needs_an_existing_workcontext(store):
    empty = store.create(PASSPHRASE, NOW)

    with pytest.raises(PreconditionFailed):
        empty.save_workcontext(full_workcontext(empty.did), NOW, if_match="*")


def test_every_version_has_its_own_etag(pod):
    first = pod.etag()
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=24), LATER)

    assert pod.etag() != first and pod.etag().startswith('"3-')
