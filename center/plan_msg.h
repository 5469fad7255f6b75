/* Every message of the exam plan importer, in one place. The center's staff
 * read them (zh-CN); each is printed as "FILE:LINE: message". They are
 * printf formats, kept as macros so that the compiler checks every use.
 * docs/plan-format.md lists them with the rule each one enforces. */
#ifndef EXAMROOM_PLAN_MSG_H
#define EXAMROOM_PLAN_MSG_H

/* ---- any file ---- */
#define PM_FILE_MISSING    "找不到文件（计划目录中应有此文件）"
#define PM_FILE_UNREADABLE "无法读取文件：%s"
#define PM_FILE_TOO_LARGE  "文件过大（超过 %u MiB）"

/* ---- JSON files (plan.json, papers) ---- */
#define PM_JSON_SYNTAX        "JSON 格式错误：%s"
#define PM_JSON_NOT_OBJECT    "顶层应为 JSON 对象 {...}"
#define PM_FIELD_MISSING      "缺少字段“%s”"
#define PM_FIELD_NOT_STRING   "字段“%s”应为非空字符串"
#define PM_FIELD_NOT_INT      "字段“%s”应为整数"
#define PM_FIELD_RANGE        "字段“%s”的值 %lld 超出范围（应为 %d 至 %d）"
#define PM_FIELD_NOT_ARRAY    "字段“%s”应为非空数组 [...]"
#define PM_FIELD_NOT_OBJECT   "字段“%s”应为对象 {...}"
#define PM_ELEMENT_NOT_OBJECT "“%s”的每一项应为对象 {...}"

/* ---- plan.json ---- */
#define PM_PLAN_ID                                                                                 \
    "计划编号“%s”不符合“YYYYMMDD-机构名称”格式（例如 20261205-广东省华立高级技工学校）"
#define PM_TIMEZONE                                                                                \
    "不支持的时区“%s”：只接受 Asia/Shanghai、Asia/Hong_Kong、Asia/Macau、Asia/Taipei（UTC+8）"
#define PM_ID_FORMAT      "编号“%s”无效：应为 1 至 32 个字母、数字、- 或 _"
#define PM_ROOM_DUP       "考场编号“%s”重复（第 %d 行已有）"
#define PM_SESSION_DUP    "场次编号“%s”重复（第 %d 行已有）"
#define PM_DATE           "日期“%s”无效：应为 YYYY-MM-DD 格式的真实日期"
#define PM_TIME           "时间“%s”无效：应为 HH:MM（00:00 至 23:59）"
#define PM_TIME_ORDER     "结束时间 %s 应晚于开始时间 %s（跨午夜的场次最长 %d 小时）"
#define PM_MINUTES        "字段“%s”（%d 分钟）应小于考试时长（%d 分钟）"
#define PM_SITTING_DUP    "本场次中职业“%s”等级“%s”重复（第 %d 行已有）"
#define PM_PAPER_PATH     "试卷路径“%s”无效：应为 papers/ 下的 .json 文件"
#define PM_PAPER_MISSING  "试卷文件 %s 不存在"
#define PM_PAPER_MISMATCH "试卷 %s 的职业、等级为“%s %s”，与本场次此处的“%s %s”不符"
#define PM_OVERLAP        "场次 %s（%s %s-%s）与场次 %s（%s %s-%s）时间重叠，两场在考场 %s 都有考生"

/* ---- paper files (papers/NAME.json) ---- */
#define PM_ITEM_ID_DUP   "试题编号“%s”重复（第 %d 行已有）"
#define PM_ITEM_TYPE     "试题类型“%s”无效：应为 single（单选）、multiple（多选）或 judge（判断）"
#define PM_OPTIONS       "试题 %s 的 options 应为以 A、B、C… 为键、至少两个选项的对象"
#define PM_OPTION_KEY    "选项键“%s”无效：应为一个大写字母 A 至 Z"
#define PM_JUDGE_OPTIONS "判断题 %s 的 options 应为空对象 {}"
#define PM_KEY_SINGLE    "单选题 %s 的答案“%s”不符合题型：应为选项中的一个字母"
#define PM_KEY_MULTIPLE                                                                            \
    "多选题 %s 的答案“%s”不符合题型：应为选项中两个或以上不同的字母，按字母顺序书写（如 ABC）"
#define PM_KEY_JUDGE    "判断题 %s 的答案“%s”不符合题型：应为 T 或 F"
#define PM_POINTS       "试题 %s 的分值应为正整数"
#define PM_POINTS_TOTAL "试卷总分为 %lld 分，应为 100 分"

/* ---- candidates.csv ---- */
#define PM_CSV_HEADER                                                                              \
    "表头应为：准考证号,姓名,性别,证件类型,证件号码,职业,等级,场次,考场,座位号,照片"
#define PM_CSV_SYNTAX      "CSV 格式错误（%s）：请检查引号是否成对"
#define PM_CSV_UTF8        "不是 UTF-8 编码的文字（可能是 GBK）：请另存为“CSV UTF-8”"
#define PM_CSV_FIELDS      "有 %zu 个字段，应为 11 个"
#define PM_CSV_NO_ROWS     "没有考生：表头之后至少应有一行"
#define PM_CAND_EMPTY      "“%s”不能为空"
#define PM_GENDER          "性别“%s”无效：应为 男 或 女"
#define PM_ID_TYPE         "证件类型“%s”无效：应为 居民身份证、港澳台居民居住证 或 护照"
#define PM_ID_LENGTH       "证件号码“%s”无效：居民身份证号码应为 18 位"
#define PM_ID_CHAR         "证件号码“%s”无效：只能是数字，最后一位可为 X"
#define PM_ID_BIRTH        "证件号码“%s”无效：第 7 至 14 位的出生日期不存在"
#define PM_ID_CHECK        "证件号码“%s”无效：校验位不符（GB 11643），可能有数字录错"
#define PM_TICKET_DUP      "场次 %s 中准考证号“%s”重复（第 %d 行已有）"
#define PM_IDNUM_DUP       "场次 %s 中证件号码“%s”重复（第 %d 行已有）"
#define PM_SESSION_UNKNOWN "场次“%s”不在 plan.json 中"
#define PM_ROOM_UNKNOWN    "考场“%s”不在 plan.json 中"
#define PM_SITTING_UNKNOWN "场次 %s 没有职业“%s”等级“%s”的试卷（见 plan.json 的 papers）"
#define PM_SEAT_FORMAT     "座位号“%s”无效：应为正整数，或留空由系统编排"
#define PM_SEAT_RANGE      "座位号 %d 超出考场 %s 的座位数（%d）"
#define PM_SEAT_TAKEN      "场次 %s 考场 %s 的座位号 %d 已被第 %d 行的考生占用"
#define PM_SEATS_FULL      "场次 %s 考场 %s 的空座位不够：本行起还有 %zu 名考生无法编排座位"
#define PM_PHOTO_NAME      "照片文件名“%s”无效：应为 photos/ 下的文件名，不含路径"
#define PM_PHOTO_MISSING   "照片文件 photos/%s 不存在"
#define PM_PHOTO_SIZE      "照片文件 photos/%s 大小不对（应大于 0 且不超过 2 MiB）"
#define PM_PHOTO_NOT_JPEG  "照片文件 photos/%s 不是 JPEG 图片"

#endif
