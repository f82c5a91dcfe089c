import pytest
from cryptography.exceptions import InvalidTag
from sms_platform.foundation import crypto


@pytest.fixture(autouse=True)
def fresh_keys(aws):
    crypto.reset()
    yield
    crypto.reset()


def test_encrypted_phone_round_trips_and_hides_the_number():
    token = crypto.encrypt("13812341234")
    assert "13812341234" not in token
    assert crypto.decrypt(token) == "13812341234"


def test_same_number_encrypts_differently_but_hashes_the_same():
    assert crypto.encrypt("13812341234") != crypto.encrypt("13812341234")
    assert crypto.keyed_hash("13812341234") == crypto.keyed_hash("13812341234")
    assert crypto.keyed_hash("13812341234") != crypto.keyed_hash("13812341235")


def test_phone_and_id_hashes_are_kept_apart():
    assert crypto.keyed_hash("371002", purpose="phone") != crypto.keyed_hash("371002", purpose="id")


def test_a_new_process_decrypts_with_the_stored_key():
    token = crypto.encrypt("13912345678")
    crypto.reset()  # as a cold start: no key in memory
    assert crypto.decrypt(token) == "13912345678"


def test_tampered_token_is_refused():
    token = crypto.encrypt("13912345678")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidTag):
        crypto.decrypt(tampered)


def test_numbers_sealed_together_open_in_order_and_hide_every_number():
    numbers = ["13812341234", "13912345678", "13700000001"]
    token = crypto.seal_many(numbers)
    assert not any(n in token for n in numbers)
    crypto.reset()  # a cold start opens it with the stored key
    assert crypto.open_many(token) == numbers
    assert crypto.open_many(crypto.seal_many([])) == []
    with pytest.raises(ValueError):
        crypto.seal_many(["138\n1234"])


def test_a_sealed_list_and_a_single_token_are_not_taken_for_each_other():
    single, sealed = crypto.encrypt("13812341234"), crypto.seal_many(["13812341234"])
    with pytest.raises(ValueError, match="not a sealed list"):
        crypto.open_many(single)
    with pytest.raises(ValueError, match="unknown token version"):
        crypto.decrypt(sealed)


def test_a_tampered_sealed_list_is_refused():
    token = crypto.seal_many(["13812341234", "13912345678"])
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    with pytest.raises(InvalidTag):
        crypto.open_many(tampered)
