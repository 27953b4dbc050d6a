"""Password hashing with Argon2id and the password policy.

Hashing: argon2-cffi's defaults follow RFC 9106's recommendations.

Policy, after NIST SP 800-63B §5.1.1.2 "Memorized secret verifiers" [M: from memory of the 2017
text]: a minimum length (NIST asks for 8; we ask for 10), a generous maximum, no composition rules,
and a check against "passwords obtained from previous breach corpuses, dictionary words,
repetitive or sequential characters (e.g. 'aaaaaa', '1234abcd') and context-specific words, such
as the name of the service, the username". The list of common passwords is written by hand and
kept short on purpose: only passwords of 10 or more characters matter (shorter ones fail the
length rule), and a full breach corpus (or a library such as zxcvbn) is not a dependency we ship.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cartflow.errors import InvalidInput
from cartflow.i18n import Message, _

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MIN_DISTINCT_CHARACTERS = 4

# Frequent entries of public breach lists that are 10 characters or longer, plus the product's own
# name in the forms a user would try.
COMMON_PASSWORDS = frozenset(
    {
        "0123456789",
        "1234567890",
        "0987654321",
        "12345678910",
        "123456789a",
        "1234567890a",
        "1234qwerasdf",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "qwertyuiop",
        "qwertyuiop123",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "asdfghjkl1",
        "asdfghjkl123",
        "zxcvbnm123",
        "password12",
        "password123",
        "password1234",
        "password!23",
        "p@ssw0rd123",
        "passw0rd123",
        "passwordpassword",
        "iloveyou123",
        "iloveyou12",
        "princess123",
        "sunshine123",
        "football123",
        "baseball123",
        "welcome123",
        "welcome1234",
        "letmein123",
        "changeme123",
        "changeme1234",
        "administrator",
        "admin12345",
        "admin123456",
        "trustno1234",
        "monkey12345",
        "dragon12345",
        "superman123",
        "michael123",
        "computer123",
        "123123123123",
        "123qweasdzxc",
        "qweasdzxc123",
        "1qazxsw23edc",
        "cartflow123",
        "cartflow1234",
        "cartflowcartflow",
    }
)

_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "йцукенгшщзхъфывапролджэячсмитьбю",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _is_sequential(text: str) -> bool:
    return any(text in seq or text in seq[::-1] for seq in _SEQUENCES)


def password_problem(password: str, *, username: str) -> Message | None:
    """Why the password is refused, or None when it meets the policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("password must be at least {n} characters", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("password must be at most {n} characters", n=MAX_PASSWORD_LENGTH)
    folded = password.casefold()
    name = username.casefold()
    if len(name) >= 3 and (name in folded or name[::-1] in folded):
        return _("password must not contain the username")
    if folded in COMMON_PASSWORDS:
        return _("password is one of the most common passwords; choose another")
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        return _("password repeats too few characters; choose another")
    if _is_sequential(folded):
        return _("password is a run of consecutive keys or letters; choose another")
    return None


def check_password_policy(password: str, *, username: str) -> None:
    problem = password_problem(password, username=username)
    if problem is not None:
        raise InvalidInput(problem, field="password")
