from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, SecretStr

PASSWORD_LENGTH = range(8, 129)

# Addresses are compared case-insensitively: one account per mailbox.
NormalizedEmail = Annotated[EmailStr, AfterValidator(str.lower)]


def _check_password(password: SecretStr) -> SecretStr:
    try:
        password.get_secret_value().encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    if len(password.get_secret_value()) not in PASSWORD_LENGTH:
        raise ValueError(
            f"must be {PASSWORD_LENGTH.start} to {PASSWORD_LENGTH.stop - 1} characters"
        )
    return password


Password = Annotated[SecretStr, AfterValidator(_check_password)]


class UserCreate(BaseModel):
    email: NormalizedEmail
    password: Password


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    created_at: datetime


class UserCreated(UserRead):
    welcome_email_job_id: str = Field(
        description="Poll GET /jobs/{id} to follow the welcome e-mail."
    )
