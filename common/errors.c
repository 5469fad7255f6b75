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
    [-ER_CODE_LENGTH] = "代码长度不对（多输或漏输了字符）。请对照原件逐组重新输入。",
    [-ER_CODE_CHAR] = "代码中有无效字符。代码只含数字和字母（不含 U），请对照原件重新输入。",
    [-ER_CODE_TYPO] = "代码输入有误（校验位不符），可能有字符输错或顺序颠倒。请对照原件重新输入。",
    [-ER_ID_LENGTH] = "身份证号码应为 18 位。请核对后重新输入。",
    [-ER_ID_CHAR] = "身份证号码只能包含数字，最后一位可以是 X。请核对后重新输入。",
    [-ER_ID_BIRTH] = "身份证号码中的出生日期无效。请核对第 7 至 14 位后重新输入。",
    [-ER_ID_CHECK] = "身份证号码校验位不符，可能有数字输错。请核对后重新输入。",
    [-ER_RANDOM] = "系统随机数生成失败，操作未完成。请重试；如仍失败，请联系技术支持。",
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
