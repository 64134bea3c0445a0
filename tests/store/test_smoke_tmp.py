from meetguard.store.base import LogQuery, LogRecord


async def test_roundtrip(store):
    r = LogRecord.new("link", "c1", host="a.zoom.us", verdict_class="warned")
    await store.append([r])
    page = await store.query(LogQuery())
    assert page.items == [r]
