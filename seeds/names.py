"""Word lists for plausible Chinese firm names, people and Shanghai addresses (with pinyin for e-mail)."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """`"云:yun 睿:rui"` → (("云", "yun"), ("睿", "rui"))."""
    return tuple((item.split(":")[0], item.split(":")[1]) for item in _words(text))


# Brand syllables (字号): two distinct ones make a brand, e.g. 云睿, 瀚芯.
BRAND_SYLLABLES = _pairs(
    """
    云:yun 睿:rui 瀚:han 芯:xin 数:shu 智:zhi 联:lian 创:chuang 源:yuan 泰:tai
    弘:hong 博:bo 思:si 达:da 迅:xun 昊:hao 宸:chen 澜:lan 峰:feng 驰:chi 启:qi
    铭:ming 德:de 华:hua 信:xin 诺:nuo 凯:kai 恒:heng 鼎:ding 锐:rui 晟:sheng
    航:hang 宇:yu 星:xing 辰:chen 蓝:lan 海:hai 汇:hui 融:rong 捷:jie 天:tian
    元:yuan 盈:ying 安:an 嘉:jia 易:yi 图:tu 灵:ling 拓:tuo 朗:lang 宏:hong 观:guan
    明:ming 立:li 合:he 致:zhi 臻:zhen 卓:zhuo 越:yue 璟:jing 烨:ye 熠:yi 炬:ju
    光:guang 量:liang 墨:mo 极:ji 翼:yi 帆:fan 溯:su 衡:heng 策:ce 擎:qing 序:xu
    维:wei 纳:na 沃:wo 泓:hong 禾:he 峻:jun 韬:tao 岚:lan 骁:xiao 曜:yao 旭:xu 昕:xin
    哲:zhe 谱:pu 析:xi 微:wei 象:xiang 翎:ling 钧:jun 琪:qi 菁:jing 映:ying 弈:yi
    珩:heng 麒:qi 麟:lin 赛:sai 聚:ju 尚:shang 品:pin 和:he 润:run 康:kang 悦:yue
    欧:ou 亚:ya 东:dong 申:shen 沪:hu 浦:pu 江:jiang 川:chuan 森:sen 松:song 枫:feng
    橙:cheng 青:qing 紫:zi 金:jin 银:yin 瑞:rui 祥:xiang
    """
)

# What the firm does, by industry code: the part between 字号 and 有限公司 (行业表述 + 组织形式 word).
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "digital.ai": ("智能科技", "人工智能科技", "机器人科技", "智能技术"),
    "digital.big_data": ("数据科技", "大数据科技", "数据技术", "信息科技"),
    "digital.cloud": ("云计算科技", "信息技术", "网络科技", "云服务科技"),
    "digital.blockchain": ("区块链科技", "链科技", "数字科技", "区块链技术"),
    "digital.intelligent_computing": ("智算科技", "计算技术", "算力科技", "信息技术"),
    "digital.info_security": ("信息安全技术", "网络安全科技", "安全技术", "信息科技"),
    "digital.fintech": ("金融信息服务", "数字科技", "金融科技服务", "信息技术"),
    "digital.ecommerce": ("电子商务", "网络科技", "互联网科技", "数字科技"),
    "digital.online_entertainment": ("网络科技", "互动娱乐科技", "数字娱乐科技", "文化科技"),
    "digital.low_altitude": ("无人机科技", "航空科技", "飞行器技术", "智能航空科技"),
    "uhd_video": ("视频科技", "影像科技", "视讯技术", "显示技术"),
    "tech_services": ("科技服务", "检测技术", "技术转移服务", "科技咨询"),
    "life_health": ("生物科技", "生物医药科技", "医疗器械", "健康科技", "医疗科技"),
    "green.new_energy_vehicle": ("新能源科技", "电驱动技术", "汽车科技", "动力科技"),
    "green.materials": ("新材料科技", "材料技术", "环保材料科技", "高分子材料科技"),
    "green.smart_grid": ("电力科技", "能源技术", "电气技术", "能源科技"),
    "green.carbon_trading": ("碳资产管理", "低碳科技", "环境科技", "节能科技"),
    "green.synthetic_bio": ("合成生物科技", "生物技术", "生物科技", "生物工程"),
    "internet.industrial_internet": ("工业互联网科技", "物联网科技", "工业智能科技", "信息技术"),
    "internet.connected_vehicle": ("智能网联科技", "智行科技", "车联网技术", "汽车电子科技"),
    "internet.digital_publishing": ("数字出版", "数字文化科技", "文化传媒科技", "网络科技"),
    "internet.ic_software": ("微电子科技", "集成电路科技", "半导体科技", "电子科技"),
}

SURNAMES = _pairs(
    """
    王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou
    徐:xu 孙:sun 马:ma 朱:zhu 胡:hu 郭:guo 何:he 林:lin 高:gao 罗:luo 郑:zheng
    梁:liang 谢:xie 宋:song 唐:tang 许:xu 韩:han 冯:feng 邓:deng 曹:cao 彭:peng
    曾:zeng 肖:xiao 田:tian 董:dong 袁:yuan 潘:pan 蒋:jiang 蔡:cai 余:yu 杜:du 叶:ye
    程:cheng 沈:shen 顾:gu 陆:lu 钱:qian 施:shi 俞:yu 严:yan 金:jin 汪:wang 姚:yao
    倪:ni
    """
)

GIVEN_CHARS = _pairs(
    """
    伟:wei 芳:fang 娜:na 敏:min 静:jing 丽:li 强:qiang 磊:lei 军:jun 洋:yang 勇:yong
    艳:yan 杰:jie 娟:juan 涛:tao 明:ming 超:chao 秀:xiu 霞:xia 平:ping 刚:gang
    英:ying 华:hua 慧:hui 建:jian 文:wen 晨:chen 雪:xue 琳:lin 佳:jia 俊:jun 浩:hao
    宇:yu 轩:xuan 婷:ting 颖:ying 欣:xin 博:bo 晓:xiao 峰:feng 斌:bin 海:hai 蕾:lei
    骏:jun 逸:yi 昕:xin 睿:rui 一:yi 子:zi 嘉:jia 毅:yi 思:si 雯:wen 婧:jing 正:zheng
    卫:wei
    """
)

# Contact titles: the first is the primary contact's.
PRIMARY_TITLES = ("总经理", "董事长", "副总经理", "财务总监", "董事会秘书")
OTHER_TITLES = ("项目申报专员", "行政经理", "财务经理", "研发总监", "综合部主管", "人事行政专员")

# Mobile prefixes in use (1[3-9]x).
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 177 180 181 182 "
    "183 185 186 187 188 189 191 198 199"
)

# Birthplace codes for ID numbers: mostly Shanghai, some from the provinces around it and beyond.
ID_REGIONS = _words(
    "310101 310104 310105 310106 310107 310109 310110 310112 310113 310115 320102 320506 330106 330203 "
    "340104 370102 420106 430104 510107 410105 360102 350102 220102 230103 610113 120101 110105"
)

# Roads by functional area (for firms in the park) and by district (for firms registered elsewhere).
AREA_ROADS: dict[str, tuple[str, ...]] = {
    "jingan.shibei": ("江场三路", "汶水路", "寿阳路", "万荣路", "江场西路", "共和新路", "场中路"),
    "jingan.daning": ("广中西路", "灵石路", "万荣路", "大宁路", "延长路", "共和新路"),
    "jingan.suhewan": ("天目中路", "北苏州路", "光复路", "西藏北路", "恒丰路", "长安路"),
    "jingan.nanxi": ("南京西路", "威海路", "江宁路", "石门一路", "吴江路", "延安中路"),
    "yangpu.future_valley": ("国定路", "政立路", "淞沪路", "国权北路", "四平路", "殷行路"),
    "yangpu.changyang": ("长阳路", "隆昌路", "荆州路", "宁国路"),
    "yangpu.hulian": ("军工路", "翔殷路", "周家嘴路"),
    "yangpu.dalian_road": ("大连路", "霍山路", "惠民路", "长阳路"),
    "yangpu.riverside": ("杨树浦路", "安浦路", "平凉路", "腾越路"),
    "hongkou.north_bund": ("东大名路", "长治路", "公平路", "东长治路", "杨树浦路"),
    "hongkou.north_ring": ("广中路", "西江湾路", "曲阳路", "中山北一路", "汶水东路", "水电路"),
}
DISTRICT_ROADS: dict[str, tuple[str, ...]] = {
    "huangpu": ("西藏中路", "河南中路", "中山南路", "蒙自路"),
    "xuhui": ("宜山路", "虹漕路", "桂平路", "漕宝路", "龙腾大道"),
    "changning": ("长宁路", "金钟路", "协和路", "临虹路"),
    "jingan": ("江场三路", "南京西路", "天目中路", "广中西路"),
    "putuo": ("金沙江路", "真北路", "武宁路", "同普路"),
    "hongkou": ("四川北路", "东大名路", "广中路", "曲阳路"),
    "yangpu": ("国定路", "长阳路", "大连路", "杨树浦路"),
    "minhang": ("东川路", "剑川路", "申长路", "莲花南路"),
    "baoshan": ("蕰川路", "沪太路", "同济支路", "高逸路"),
    "jiading": ("嘉戬公路", "叶城路", "安亭镇墨玉路", "城北路"),
    "pudong": ("张江路", "博云路", "科苑路", "祖冲之路", "环湖西二路", "金科路"),
    "jinshan": ("亭卫公路", "金山大道", "漕廊公路"),
    "songjiang": ("新飞路", "九亭中心路", "荣乐东路", "莘砖公路"),
    "qingpu": ("崧泽大道", "华徐公路", "外青松公路"),
    "fengxian": ("环城东路", "航南公路", "沪杭公路"),
    "chongming": ("陈海公路", "长兴江南大道", "城桥镇八一路"),
}

# Departments that send data, by what they know (部门数据).
DEPT_TAX = "税务局"
DEPT_MARKET = "市场监管局"
DEPT_HR = "人社局"
DEPT_STATS = "统计局"
DEPT_IP = "知识产权局"
DEPT_CREDIT = "公共信用信息服务中心"
DEPT_SAFETY = "应急管理局"
DEPT_ENV = "生态环境局"
DEPT_CYBER = "网信办"

AWARDS: tuple[tuple[str, str], ...] = (
    ("国家科学技术进步奖二等奖", "national"),
    ("国家技术发明奖二等奖", "national"),
    ("上海市科学技术奖科技进步奖一等奖", "provincial"),
    ("上海市科学技术奖科技进步奖二等奖", "provincial"),
    ("上海市科学技术奖技术发明奖二等奖", "provincial"),
    ("中国专利优秀奖", "ministerial"),
    ("上海市优秀发明选拔赛金奖", "provincial"),
)

# 高企 资格取消 grounds, 国科发火〔2016〕32号 第十九条.
HNTE_REVOKE_REASONS = (
    "在申请认定过程中存在严重弄虚作假行为（国科发火〔2016〕32号 第十九条）",
    "发生重大安全、重大质量事故或有严重环境违法行为（国科发火〔2016〕32号 第十九条）",
    "累计两年未填报年度发展情况报表（国科发火〔2016〕32号 第十九条）",
)
