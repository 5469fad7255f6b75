/* The sentence for every error code: the one place where the project's error
 * texts live. Each says what went wrong and what to do, in the words of the
 * proctor who reads it (zh-CN). */
#include "common.h"

#include <stdio.h>

static const char *const sentences[] = {
    [-ER_NOMEM] = "内存不足，操作未完成。请关闭其他程序后重试。",
    [-ER_IO] = "读写文件失败。请检查磁盘空间和数据目录的权限后重试。",
    [-ER_USAGE] = "命令用法有误。请查看 --help 给出的用法。",
    [-ER_UNAVAILABLE] = "此功能在当前版本中尚未提供。请升级到更新的版本。",
    [-ER_INTERNAL] = "程序内部错误，操作未完成。请保留日志并联系技术支持。",
    [-ER_DISK_FULL] =
        "数据目录所在的磁盘空间不足。请清理出空间后重试；已经完成的部分不会丢失，会接着进行。",
    [-ER_TOO_LARGE] = "数据超出了本程序的处理上限，操作未完成。请保留日志并联系技术支持。",
    [-ER_CODE_LENGTH] = "代码长度不对（多输或漏输了字符）。请对照原件逐组重新输入。",
    [-ER_CODE_CHAR] = "代码中有无效字符。代码只含数字和字母（不含 U），请对照原件重新输入。",
    [-ER_CODE_TYPO] = "代码输入有误（校验位不符），可能有字符输错或顺序颠倒。请对照原件重新输入。",
    [-ER_ID_LENGTH] = "身份证号码应为 18 位。请核对后重新输入。",
    [-ER_ID_CHAR] = "身份证号码只能包含数字，最后一位可以是 X。请核对后重新输入。",
    [-ER_ID_BIRTH] = "身份证号码中的出生日期无效。请核对第 7 至 14 位后重新输入。",
    [-ER_ID_CHECK] = "身份证号码校验位不符，可能有数字输错。请核对后重新输入。",
    [-ER_RANDOM] = "系统随机数生成失败，操作未完成。请重试；如仍失败，请联系技术支持。",
    [-ER_CRYPTO] = "加密运算失败，操作未完成。请保留日志并联系技术支持。",
    [-ER_KEY_FILE] = "无法读取或写入密钥文件。请检查数据目录是否存在、磁盘是否已满。",
    [-ER_KEY_PERMS] = "密钥文件的权限过宽（其他用户可读）。请执行 chmod 600 密钥文件 后重试。",
    [-ER_KEY_FORMAT] =
        "密钥格式不对（不是所需类型的密钥）。请重新复制考试中心提供的公钥或密钥文件。",
    [-ER_BADSIG] =
        "签名无效：数据不是由对应的密钥签发的，或已被改动。请勿使用这份数据，并联系考试中心。",
    [-ER_PKG_NOT_PACKAGE] = "该文件不是考试试卷包。请确认选择了考试中心提供的试卷包文件。",
    [-ER_PKG_FORMAT_VERSION] = "试卷包的格式版本高于本程序所能识别的版本。请升级考场程序后重试。",
    [-ER_PKG_BADSIG] = "试卷包签名无效：不是考试中心签发的，或已被改动。请重新下载试卷包，切勿使用"
                       "来历不明的文件。",
    [-ER_PKG_CORRUPT] = "试卷包内容与签名不符（文件损坏或被改动）。请重新下载试卷包。",
    [-ER_PKG_TRUNCATED] = "试卷包文件不完整（下载或复制未完成）。请重新下载或重新复制。",
    [-ER_PKG_TRAILING] = "试卷包文件末尾多出了数据（文件被改动）。请重新下载试卷包。",
    [-ER_PKG_OTHER_ROOM] =
        "该试卷包属于其他考场，本考场不能使用。请核对考场注册码，下载本考场的试卷包。",
    [-ER_PKG_OLD_VERSION] = "该试卷包比本机已有的版本旧，已拒绝。请使用考试中心最新发布的试卷包。",
    [-ER_PKG_EXPIRED] = "试卷包已过期。请联系考试中心获取新的试卷包，并检查本机时间是否正确。",
    [-ER_PKG_WRONG_CODE] = "开考密码不正确。请核对场次和密码后重新输入，或联系考试中心。",
    [-ER_PKG_NO_SESSION] = "试卷包中没有这个场次。请核对场次编号。",
    [-ER_PKG_NO_SECTION] = "试卷包中缺少所需的内容。请重新下载试卷包。",
    [-ER_PKG_LOCKED] = "该场次试卷尚未解锁。请在开考时间联网获取密钥，或输入开考密码解锁。",
    [-ER_PKG_TOO_LARGE] = "试卷包过大，超出本程序的处理上限。请联系考试中心。",
    [-ER_PKG_REPLACED] =
        "考试中心换发了同一版本号的另一份试卷包，但本考场的考试已经开始（有场次已解锁或"
        "已到开考时间），本机不替换试卷包，继续使用原来的一份。请联系考试中心。",
    [-ER_STORE_DAMAGED] =
        "考场数据文件已损坏，程序拒绝启动以免丢失答卷。请勿删除数据目录中的任何文件，"
        "按《考场操作手册》“数据文件损坏”一节处理，或联系技术支持。",
    [-ER_STORE_SCHEMA_NEWER] =
        "考场数据文件由更新版本的程序创建，本版本无法使用。请安装相同或更新版本的考场程序。",
    [-ER_STORE_FULL] =
        "磁盘已满，答卷暂时无法保存。请立即清理数据目录所在磁盘的空间；空间恢复后保存会自动继续。",
    [-ER_STORE_IO] = "读写考场数据文件时出错，本次保存未完成。请检查磁盘是否故障或已满，然后重试。",
    [-ER_STORE_BUSY] = "考场数据文件正被另一个程序占用。请确认没有同时运行两个考场程序，稍后重试。",
    [-ER_STORE_OPEN] = "无法打开或创建考场数据文件。请检查数据目录是否存在、是否有写入权限。",
    [-ER_STORE_NOT_FOUND] = "要操作的记录不存在（考生、场次、终端或记录编号不对）。请核对后重试。",
    [-ER_STORE_CONFLICT] = "该记录已存在或与已保存的记录冲突，未做更改。请核对后重试。",
    [-ER_STORE_CLOSED] = "考场程序正在退出，本次保存未进行。请在程序重新启动后重试。",
    [-ER_STORE_CHAIN] =
        "成绩记录的链位置与已保存的不符，本次未保存。请重试；如仍失败，请保留日志并联系技术支持。",
    [-ER_STORE_STALE_REV] =
        "提交的答案比已保存的旧，未覆盖已保存的答案。页面会显示已保存的答案，请核对后继续作答。",
    [-ER_SYNC_UNREACHABLE] =
        "无法连接考试中心。请检查网络连接和中心地址；网络恢复后再试，已保存的数据不受影响。",
    [-ER_SYNC_TLS] = "考试中心的证书无法验证（证书不匹配，或不是 init 时指定的 CA "
                     "签发的）。请核对中心地址和 CA 文件，切勿忽略此错误。",
    [-ER_SYNC_TIMEOUT] = "连接考试中心超时。网络可能很慢或中断，请稍后重试。",
    [-ER_SYNC_NETWORK] =
        "与考试中心的连接中断。请检查网络后重试；已完成的部分不会丢失，重试时从中断处继续。",
    [-ER_SYNC_PROTOCOL] =
        "考试中心的回答无法识别。请确认中心地址正确、中心软件版本匹配，并联系考试中心。",
    [-ER_SYNC_SERVER] = "考试中心暂时出错。请稍后重试；如持续出现，请联系考试中心。",
    [-ER_SYNC_SERIAL_USED] =
        "该注册码已被其他考场服务器使用过。请联系考试中心确认或重新申请注册码。",
    [-ER_SYNC_KEY_IN_USE] =
        "本考场服务器的密钥已用另一个注册码注册过。请用原来的注册码，或联系考试中心。",
    [-ER_SYNC_ROOM_REGISTERED] =
        "考试中心记录本考场已由另一台考场服务器注册。若要换用本机，请联系考试中心签发替换注册码"
        "（examcenter serial issue --replace 考场号）后再注册。",
    [-ER_SYNC_KEY_RETIRED] =
        "考试中心已用替换注册码把本考场换到另一台考场服务器，本机的密钥已停用，不能再上传或下载。"
        "尚未上传的成绩请导出后交考试中心处理，并联系考试中心。",
    [-ER_SYNC_MANIFEST_OTHER] = "考试中心发来的试卷包清单不是给本考场或本场考试的，已拒绝，没有下载"
                                "任何内容。请核对中心地址，"
                                "并联系考试中心。",
    [-ER_SYNC_UNBOUND] =
        "考试中心的回答不是对本机这次请求的回答（它指向另一台考场服务器或另一次请求），"
        "已拒绝，没有采用其中任何内容。可能是攻击（重放旧回答），也可能是代理服务器"
        "配置不当（缓存了回答）：请勿继续，检查网络与代理设置，并联系考试中心。",
    [-ER_SYNC_SERIAL_UNKNOWN] =
        "考试中心没有这个注册码。请核对注册码（注意是否为本场考试的注册码）。",
    [-ER_SYNC_CLOCK] = "本机时间与考试中心相差过大。请校准本机时间（时区为北京时间）后重试。",
    [-ER_SYNC_UNREGISTERED] = "考试中心不认识本考场。请先执行 examroom register 注册。",
    [-ER_SYNC_BADSIG] = "考试中心回答的签名无效（可能连接被篡改，或中心公钥不对）。请勿继续，联系考"
                        "试中心核对中心公钥。",
    [-ER_SYNC_NO_PACKAGE] = "考试中心还没有为本考场生成试卷包。请稍后重试，或联系考试中心。",
    [-ER_SYNC_CONFLICT] = "考试中心已有同一编号但内容不同的成绩或记录，本批未上传。数据可能被改动过"
                          "：请保留数据目录，立即联系考试中心。",
    [-ER_SYNC_CHAIN] = "考试中心发现本考场的成绩记录链不连续或被截断，本批未上传。请勿删除或恢复数"
                       "据目录，立即联系考试中心。",
    [-ER_SYNC_CANCELLED] = "与考试中心的通信已取消（程序正在退出）。",
    [-ER_CENTER_DB] = "考试中心数据库无法打开或读写。请检查数据目录的权限和磁盘空间，详情见日志。",
    [-ER_CENTER_DB_NEWER] =
        "考试中心数据库由更新版本的程序创建。请安装相同或更新版本的 examcenter。",
    [-ER_PLAN_INVALID] =
        "考试计划有错误，未导入任何内容。请按上面列出的文件和行号逐项改正后重新导入。",
    [-ER_PLAN_EXISTS] =
        "该考试计划已经导入过。如需更改，请使用新的计划编号，或先联系管理员撤下旧计划。",
    [-ER_PLAN_NOT_FOUND] = "没有找到该考试计划。请先用 plan import 导入，或核对计划编号。",
    [-ER_ROOM_NOT_FOUND] = "考试计划中没有这个考场。请核对考场编号。",
    [-ER_SESSION_NOT_FOUND] = "考试计划中没有这个场次。请核对场次编号。",
    [-ER_ROOM_NOT_INIT] =
        "本机尚未初始化为考场服务器。请先执行 examroom init（用法见 examroom init --help）。",
    [-ER_ROOM_ALREADY_INIT] = "本机已经初始化过，未做任何更改（考场密钥是本考场在考试中心的身份，不"
                              "能重建）。如确需重建，请联系考试中心后换用新的数据目录。",
    [-ER_NOT_REGISTERED] = "本考场尚未注册。请先用考场注册码执行 examroom register。",
    [-ER_PASSWORD_SHORT] = "监考密码太短（至少 8 个字符）。请换一个更长的密码。",
    [-ER_DAEMON_DOWN] = "考场服务没有运行，无法执行监考操作。请先启动 examroom serve（或 systemctl "
                        "start examroom）。",
    [-ER_PAIR_REFUSED] = "考场服务拒绝了这个操作。请按上面的提示处理后重试。",
    [-ER_API_BODY] = "请求内容不完整或格式不正确。请刷新页面后重试。",
    [-ER_API_ANSWER] = "答案不符合这道题的题型，没有保存。请刷新页面后重试。",
    [-ER_READER_SERVER] =
        "连不上考场服务器，或它的应答无效。请检查网线和 --server 地址（考场服务器的 "
        "http://地址:端口），确认 examroom serve 正在运行后重试。",
    [-ER_READER_REVOKED] =
        "这个阅读器的配对未获批准或已被撤销。请重新运行 examroom card-reader 申请"
        "新的配对码，并请监考老师批准。",
    [-ER_DAEMON_RUNNING] =
        "这个数据目录已有一个 examroom serve 在运行，不能再启动一个。"
        "请先停止它（systemctl stop examroom，或结束该进程），或换一个 --data 目录。",
    [-ER_DAEMON_LISTEN] =
        "考场服务无法在指定地址上监听。请检查该端口是否已被其他程序占用，或换一个 --listen 地址。",
    [-ER_CA_FILE] =
        "中心 CA 文件无法读取，或不是 PEM 格式的证书。请核对考试中心提供的 ca.pem 文件。",
    [-ER_BUNDLE_REFUSED] =
        "U盘文件的内容与考试中心已有的记录冲突，未导入任何内容。请保留该文件并联系技术支持。",
    [-ER_USB_TRUNCATED] = "U盘文件不完整（导出或复制没有完成，或U盘拔出过早），未导入任何内容。"
                          "请在考场重新执行 examroom export 导出，安全弹出U盘后再导入。",
    [-ER_USB_CORRUPT] = "U盘文件已损坏或被修改（签名或解密校验失败），未导入任何内容。"
                        "请在考场重新执行 examroom export 导出后再导入；如仍失败，请换一个U盘。",
    [-ER_USB_NOT_BUNDLE] = "该文件不是考场导出的U盘数据文件。请选择 examroom export 生成的文件。",
    [-ER_USB_OTHER_CENTER] = "该U盘文件是加密给另一个考试中心的，本中心无法读取，未导入任何内容。"
                             "请核对考场注册的是哪个考试中心，并交由该中心导入。",
    [-ER_RECEIPT_TRUNCATED] =
        "回执文件不完整（复制没有完成，或U盘拔出过早），未做任何更改。"
        "请在考试中心重新执行 examcenter import 生成回执，安全弹出U盘后再导入。",
    [-ER_RECEIPT_CORRUPT] = "回执文件已损坏或被修改（考试中心的签名校验失败），未做任何更改。"
                            "请在考试中心重新执行 examcenter import 生成回执后再导入。",
    [-ER_RECEIPT_NOT_RECEIPT] =
        "该文件不是考试中心的回执文件。请选择 examcenter import 生成的 .receipt 文件。",
    [-ER_RECEIPT_OTHER_CENTER] = "该回执不是本考场登记的考试中心签发的，未做任何更改。"
                                 "请使用本考场注册的考试中心生成的回执。",
    [-ER_RECEIPT_OTHER_ROOM] = "该回执属于另一台考场服务器（考场密钥不符），未做任何更改。"
                               "请使用由本机导出的U盘文件在考试中心生成的回执。",
    [-ER_RECEIPT_OTHER_PLAN] = "该回执属于另一个考试计划，未做任何更改。"
                               "请使用本考场当前考试计划的U盘文件生成的回执。",
    [-ER_RECEIPT_MISMATCH] = "回执与本考场的记录不符（成绩记录链或记录内容不一致），未做任何更改。"
                             "请保留该回执和U盘文件，联系考试中心核对。",
    [-ER_ROOM_NOT_REGISTERED] =
        "考场尚未用注册码注册，还不能为它生成试卷包。请先让考场执行 examroom register。",
};

#define N_SENTENCES (sizeof(sentences) / sizeof(sentences[0]))

const char *er_strerror(int code)
{
    static _Thread_local char unknown[96];

    if (code == ER_OK)
        return "操作成功。";
    if (code < 0 && (size_t)-code < N_SENTENCES && sentences[-code] != NULL)
        return sentences[-code];
    snprintf(unknown, sizeof(unknown), "未知错误（代码 %d）。请保留日志并联系技术支持。", code);
    return unknown;
}

const char *er_name(int code)
{
    switch (code) {
    case ER_OK:
        return "ER_OK";
#define ER_NAME_CASE(name, value)                                                                  \
    case name:                                                                                     \
        return #name;
        ER_CODES(ER_NAME_CASE)
#undef ER_NAME_CASE
    }
    return "ER_UNKNOWN";
}
