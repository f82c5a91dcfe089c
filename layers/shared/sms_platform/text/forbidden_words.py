"""A seed list of words that Article 57 of the Telecommunications Regulations forbids in a message.

Reviewers extend the list through the staff API; this module only gives a new installation a
sensible start. Terms are kept specific so that ordinary social-insurance notices (which speak
of accounts, payments, loans for starting a business and so on) never match them.
"""

from __future__ import annotations

# category -> (label shown to reviewers, seed terms). Article 57 items in brackets.
FORBIDDEN_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    # (1)-(3): against the constitution, state security and the state's unity.
    "subversion": ("颠覆国家政权", ("颠覆国家政权", "推翻政府", "颠覆政府", "煽动颠覆", "反政府游行")),
    "separatism": ("分裂国家", ("分裂国家", "台独", "藏独", "疆独", "港独", "民族分裂")),
    # (7): terror and violence.
    "terror": ("暴力恐怖", ("恐怖袭击", "制作炸弹", "炸药配方", "自制枪支", "人体炸弹", "圣战")),
    # (5): cults and feudal superstition.
    "cult": ("邪教迷信", ("法轮功", "全能神", "门徒会", "转运符")),
    # (7): obscenity and pornography.
    "obscenity": ("淫秽色情", ("色情", "淫秽", "裸聊", "援交", "一夜情", "约炮", "成人视频")),
    # (7): gambling.
    "gambling": ("赌博", ("赌博", "博彩", "赌场", "六合彩", "百家乐", "时时彩", "赌球", "老虎机")),
    # (9): fraud and other unlawful dealings.
    "fraud": (
        "诈骗违法",
        ("代开发票", "办假证", "信用卡套现", "刷单返利", "安全账户", "中奖", "洗钱", "出售银行卡", "黑户贷款"),
    ),
    # (6): rumours that disturb public order.
    "rumours": ("散布谣言", ("紧急扩散", "转发救命", "内部消息称", "速转告亲友", "地震预报称")),
}


def default_words() -> list[str]:
    """Every seed term, in category order."""
    return [word for _label, words in FORBIDDEN_CATEGORIES.values() for word in words]


def category_of(word: str) -> str | None:
    """The category a seed term belongs to; ``None`` for a term reviewers added."""
    for category, (_label, words) in FORBIDDEN_CATEGORIES.items():
        if word in words:
            return category
    return None
