"""Split a new delivery address into ``region`` (province city district) and ``detail``."""

from __future__ import annotations

import re

from pydantic import BaseModel

from bot.router.lexicon import Lexicon

_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# A trigger in front of the address: 改成 / 寄到 / 新地址是 …
_LEAD = re.compile(
    r"^.*?(?:地址|收货|收件)?(?:改成|改为|改到|换成|换到|更改为|变更为|寄到|发到|送到|寄去|新地址是|地址是|地址为|地址:)\s*"
)
# A bare "地址" leads the address only when no stronger trigger does ("收货地址写错了，改成…").
_LEAD_WEAK = re.compile(r"^.*?地址\s*")
_CITY = re.compile(r"^(.{2,8}?(?:市|自治州|州|地区|盟))")
_DISTRICT = re.compile(r"^(.{1,8}?(?:区|县|旗|市))")
_DETAIL_HINT = re.compile(r"\d|路|街|道|号|村|镇|乡|小区|栋|幢|室|楼|弄|巷|大厦|园|苑|公寓|广场|中心|院")
_PHONE_LABEL = re.compile(r"(?:联系)?(?:电话|手机号码|手机号|手机)(?:改成|改为|换成|是|:)?")
# "省市区不变" / "北京朝阳区不变": only the street part changes; the region stays the order's.
_KEEP_REGION = re.compile(
    r"(?:省市区|省市|地区|区域|城市|所在地区|前面的?|其他的?|其它的?|[\u4e00-\u9fff]{2,8}?(?:省|市|区|县))(?:都|也)?(?:不变|不用改|不改|没变|一样)"
)
# Where an address ends: thanks, emoji and such are not part of it ("天童南路588号谢谢🙏").
_DETAIL_END = re.compile(r"(?:谢谢|多谢|感谢|麻烦|辛苦|拜托|好的|可以吗|行吗|能改吗|吗|呢|哈|呀|啊|哦|吧).*$")
_NOT_ADDRESS = re.compile(r"[^\u4e00-\u9fff0-9a-zA-Z#\-]+$")
_NAME = re.compile(r"(?:收件人|收货人|名字)(?:改成|改为|换成|是|:)?\s*([\u4e00-\u9fff]{2,4})")


class NewAddress(BaseModel):
    """What the buyer gave of a new address; any part may be missing."""

    region: str | None = None
    detail: str | None = None
    name: str | None = None
    phone: str | None = None
    keep_region: bool = False  # the buyer said the province/city/district stay as they are

    @property
    def complete(self) -> bool:
        return bool(self.detail and (self.region or self.keep_region))


def _strip_punct(text: str) -> str:
    return re.sub(r"[,，。!！?？;；:：\s]+", "", text)


def parse_address(norm: str, lex: Lexicon) -> NewAddress | None:
    """Parse an address from normalised text; ``None`` when the text names none at all.

    A region needs a province with a city or district, or a city with a district; the
    detail needs something deliverable (a road, a number, a building).
    """
    phone_m = _PHONE.search(norm)
    name_m = _NAME.search(norm)
    keep = _KEEP_REGION.search(norm)
    text = _PHONE_LABEL.sub(" ", _PHONE.sub(" ", norm))
    if keep:
        text = text.replace(keep.group(0), " ")
    if name_m:
        text = text.replace(name_m.group(0), " ")
    lead = _LEAD.match(text) or _LEAD_WEAK.match(text)
    body = _strip_punct(text[lead.end():] if lead else text)
    region: list[str] = []
    rest = body
    # Find the province anywhere near the start (after words like 我搬到了).
    for short, full in lex.provinces:
        idx = rest.find(short)
        if 0 <= idx <= 6:
            after = rest[idx + len(short):]
            for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
                if after.startswith(suffix):
                    after = after[len(suffix):]
                    break
            region.append(full)
            rest = after
            break
    municipality = bool(region) and region[0] in ("北京市", "天津市", "上海市", "重庆市")
    if not municipality:
        city = _CITY.match(rest)
        if city and (region or city.group(1).endswith("市")) and not _DETAIL_HINT.search(city.group(1)[:-1]):
            region.append(city.group(1))
            rest = rest[city.end():]
    district = _DISTRICT.match(rest)
    if district and not re.search(r"\d|路|街|号", district.group(1)):
        region.append(district.group(1))
        rest = rest[district.end():]
    has_city_level = len(region) >= 2 or (municipality and len(region) >= 2)
    rest = _NOT_ADDRESS.sub("", _DETAIL_END.sub("", rest))
    detail = rest if rest and _DETAIL_HINT.search(rest) else None
    phone = phone_m.group(0) if phone_m else None
    name = name_m.group(1) if name_m else None
    if not region and not phone and not name and not lead:
        return None
    keep_region = bool(keep) and not has_city_level
    return NewAddress(
        region=" ".join(region) if has_city_level else None,
        detail=detail if (has_city_level or keep_region) else (detail if region else None),
        name=name,
        phone=phone,
        keep_region=keep_region,
    )
