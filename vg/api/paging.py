"""The link to the next page of a cut answer (RFC 8288 ``Link`` with rel="next").

An answer that holds only the first entries of what matched says so: the next
page is named by the cursor ``after`` (the last index this page holds), with every
other query parameter as the caller sent it, so the filters and the format hold on
every page. The link is a relative reference: the server's own address is never
built from a request's Host header.
"""

from __future__ import annotations

from starlette.requests import Request


def next_link(request: Request, after: int | None) -> dict[str, str]:
    """The ``Link`` header for the page after ``after``; none without one."""
    if after is None:
        return {}
    url = request.url.remove_query_params(["after", "offset"]).include_query_params(
        after=after)
    return {"Link": f'<{url.path}?{url.query}>; rel="next"'}
