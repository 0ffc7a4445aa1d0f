"""Formal minutes (正式会议纪要): generation from the record, sign-off, versions, final lock, exports."""
