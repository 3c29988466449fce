"""How passwords and client secrets are hashed: Argon2, as pwdlib recommends."""

from pwdlib import PasswordHash

password_hasher = PasswordHash.recommended()
