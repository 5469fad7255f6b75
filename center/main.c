/* examcenter: the reference exam center. The command table of PRODUCT.md §3;
 * summaries are read by the center's staff in --help (zh-CN). */
#include "center.h"

static const struct cli_command commands[] = {
    {"init", "", "创建考试中心的密钥、测试CA和本机服务器证书", cmd_init},
    {"plan",
     "import DIR | sample DIR [--candidates N] [--rooms N] [--sessions N] [--start-in MINUTES] "
     "[--seed N] [--photo-kib N]",
     "校验并导入考试计划目录，或生成一个模拟计划", cmd_plan},
    {"serial", "issue --room ROOM | --replace ROOM [--plan P]",
     "为考场签发一次性注册码（--replace：为已注册的考场更换服务器）", cmd_serial},
    {"pack", "[--room ROOM] [--plan P]", "为已注册的考场生成加密试卷包，逐行输出文件路径",
     cmd_pack},
    {"unlock-code", "--session S [--plan P]", "显示场次的开考密码（电话告知离线考场）",
     cmd_unlock_code},
    {"serve", "--listen ADDR:PORT [--tls-cert F --tls-key F] [--key-lead MINUTES] [--plain-http]",
     "运行考试中心的 HTTPS 接口（--plain-http 只供测试）", cmd_serve},
    {"scores", "[--plan P] [--format csv|json]", "输出已收到的成绩报表", cmd_scores},
    {"import", "FILE [--receipt OUT]",
     "导入考场的U盘文件（与在线上传幂等），并写出给考场带回的签名回执（默认 FILE.receipt）",
     cmd_import},
    {0},
};

static const struct cli_program program = {
    .name = "examcenter",
    .version = EXAMROOM_VERSION,
    .summary = "ATA机考参考考试中心（计划导入、试卷包生成、密钥发放、成绩接收）",
    .data_env = "EXAMCENTER_DATA",
    .data_default = "/var/lib/examcenter",
    .commands = commands,
};

int main(int argc, char **argv)
{
    return cli_main(&program, argc, argv);
}
