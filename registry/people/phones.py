"""Phone numbers, stored in E.164 (`+263772123456`), parsed by Google's libphonenumber rules."""
import phonenumbers


def normalise_phone(raw, default_region="ZW"):
    """Return the number in E.164, or raise ValueError with a message an officer can act on."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("Enter a phone number.")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number) or default_region
        raise ValueError(f"{text!r} is not a valid phone number for {region}; include the country code if it is foreign.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164):
    if not e164:
        return ""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
