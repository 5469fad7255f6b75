/* examroom: the exam room agent. The command table of PRODUCT.md §3; the
 * proctor reads the summaries in --help (zh-CN). */
#include "agent.h"

#include <sys/stat.h>

static const struct cli_command commands[] = {
    {"init",
     "--center URL --center-key KEY [--center-ca FILE] [--name NAME] "
     "[--proctor-password-file F]",
     "创建本考场的数据库和密钥对，登记考试中心地址和公钥", cmd_init},
    {"register", "SERIAL", "用考场注册码向考试中心注册本考场", cmd_register},
    {"fetch", "[--from FILE]", "下载并校验本考场的试卷包（--from 从U盘文件导入）", cmd_fetch},
    {"verify", "[FILE]", "离线重新校验已存的试卷包或指定的试卷包文件", cmd_verify},
    {"serve", "[--listen ADDR:PORT] [--id-reader DEVICE]... [--require-checkin]",
     "运行考场服务（考生机、监考台、场次计时、后台同步、门口身份证核验）", cmd_serve},
    {"status", "[--json]", "显示注册、试卷包、场次、考生状态、待同步数量和时钟偏差", cmd_status},
    {"unlock", "SESSION CODE", "用开考密码解锁场次试卷（离线开考）", cmd_unlock},
    {"roster", "[--session S] [--format table|csv|json] [--incidents]", "显示考生名单及每人状态",
     cmd_roster},
    {"pair", "list [--json] | approve CODE [--seat N] | reject CODE | revoke SEAT [--reader]",
     "考生机和座位阅读器的配对：列出、批准、拒绝、撤销", cmd_pair},
    {"card-reader", "--server URL --device DEVICE [--state FILE]",
     "在考生机上运行座位身份证阅读器：配对后把读到的身份证送到考场服务器，签到时自动填入",
     cmd_card_reader},
    {"extend", "TICKET MINUTES [--session S]", "为考生延长考试时间", cmd_proctor},
    {"move", "TICKET SEAT [--session S]", "将考生换到另一座位（答案和剩余时间随之迁移）",
     cmd_proctor},
    {"absent", "TICKET [--session S]", "将考生记为缺考", cmd_proctor},
    {"incident", "TICKET TEXT [--session S]", "记录考场违纪或异常情况", cmd_proctor},
    {"submit", "TICKET [--session S]", "替考生交卷", cmd_proctor},
    {"sync", "[--wait]", "立即上传待同步的成绩和记录（--wait 等到全部确认）", cmd_sync},
    {"export", "FILE", "将考试中心尚未确认的成绩和记录导出为加密签名的U盘文件（无需联网）",
     cmd_export},
    {"import-receipt", "FILE", "导入考试中心对U盘文件的签名回执，清除已确认的待上传记录",
     cmd_import_receipt},
    {"report", "signin|scores|attendance --session S [--format csv|html] [--output FILE]",
     "生成签到表、成绩报表或考勤表（CSV 或 A4 打印页）", cmd_report},
    {0},
};

static const struct cli_program program = {
    .name = "examroom",
    .version = EXAMROOM_VERSION,
    .summary = "ATA机考考场服务程序",
    .data_env = "EXAMROOM_DATA",
    .data_default = "/var/lib/examroom",
    .commands = commands,
};

int main(int argc, char **argv)
{
    int status;

    /* Everything the agent creates in its data directory is the room's
     * alone: files 0600, directories 0700 (SECURITY.md, at rest). */
    umask(077);
    status = cli_main(&program, argc, argv);
    /* libuv's thread pool ends here, while OpenSSL can still free what each
     * of its threads kept (its error state, 904 bytes). At exit OpenSSL's
     * own cleanup runs first and libuv joins its threads after it, which
     * left those behind (valgrind's memcheck: definitely lost). */
    uv_library_shutdown();
    return status;
}
