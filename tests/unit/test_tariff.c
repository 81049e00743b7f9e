/*
 * test_tariff.c - lib/tariff.c: what a valid tariff parses into, every
 * validation message word for word (staff read them), the TOU window
 * rules (TOU-WINDOW-01), and the canonical JSON round trip.
 */
#include "tariff.h"
#include "test.h"

#include <stdlib.h>

#define BEIJING                                                                \
	"{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["               \
	"{\"upto_kwh\":2880,\"price\":\"0.4883\"},{\"upto_kwh\":4800,\"price\":\"0.5383\"}," \
	"{\"price\":\"0.7883\"}]}"

#define ZHEJIANG_A                                                             \
	"{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["               \
	"{\"upto_kwh\":2760,\"increment\":\"0\"},{\"upto_kwh\":4800,\"increment\":\"0.05\"}," \
	"{\"increment\":\"0.30\"}],\"tou\":{\"model\":\"A\",\"periods\":["          \
	"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.568\"},"    \
	"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.288\"}]}}"

#define SHANGHAI_B                                                             \
	"{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":["               \
	"{\"upto_kwh\":3120,\"prices\":{\"peak\":\"0.617\",\"valley\":\"0.307\"}}," \
	"{\"upto_kwh\":4800,\"prices\":{\"peak\":\"0.677\",\"valley\":\"0.337\"}}," \
	"{\"prices\":{\"peak\":\"0.977\",\"valley\":\"0.487\"}}],"                  \
	"\"household\":{\"min_size\":5,\"add_kwh\":[1200,0]},"                       \
	"\"tou\":{\"model\":\"B\",\"periods\":["                                    \
	"{\"name\":\"peak\",\"windows\":[\"06:00-22:00\"]},"                         \
	"{\"name\":\"valley\",\"windows\":[\"22:00-06:00\"]}]}}"

#define ANHUI_C                                                                \
	"{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":["              \
	"{\"upto_kwh\":180,\"price\":\"0.5653\"},{\"upto_kwh\":350,\"price\":\"0.6153\"}," \
	"{\"price\":\"0.8653\"}],\"tou\":{\"model\":\"C\",\"periods\":["            \
	"{\"name\":\"flat\",\"windows\":[\"08:00-22:00\"],\"adjust\":\"0.03\"},"    \
	"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"adjust\":\"-0.25\"}]}}"

#define BEIJING_WATER                                                          \
	"{\"utility\":\"water\",\"basis\":\"annual\",\"tier_year_start_month\":1,"  \
	"\"tiers\":[{\"upto_m3\":180},{\"upto_m3\":260},{}],"                      \
	"\"household\":{\"min_size\":6,\"per_person_over\":5,\"add_m3\":[30,30]}," \
	"\"components\":[{\"name\":\"water\",\"prices\":[\"2.07\",\"4.07\",\"6.07\"]}," \
	"{\"name\":\"resource\",\"price\":\"1.57\"},{\"name\":\"sewage\",\"price\":\"1.36\"}]," \
	"\"fixed\":[{\"name\":\"meter\",\"label\":\"水表维护费\",\"amount\":\"2.50\"}]}"

#define GUANGDONG                                                              \
	"{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":["              \
	"{\"upto_kwh\":200,\"price\":\"0.68\"},{\"upto_kwh\":400,\"price\":\"0.73\"}," \
	"{\"price\":\"0.98\"}],\"seasons\":[{\"months\":[10,5,6,7,8,9],\"upto_kwh\":[260,600]}]," \
	"\"household\":{\"min_size\":5,\"add_kwh\":[100,100]},"                      \
	"\"late_fee\":{\"rate_ppm_per_day\":500,\"grace_days\":3,\"minimum\":\"1.00\",\"cap_pct\":100}," \
	"\"multiplier_round\":\"none\",\"rounding\":\"MONEY-ROUND-01\",\"format\":1}"

/* Parses json, expects XQ_EINVAL with exactly msg, and *out untouched. */
#define CHECK_REJECT(json, msg)                                                \
	do {                                                                   \
		struct tariff t_;                                              \
		char err_[256];                                                \
		memset(&t_, 0x5A, sizeof(t_));                                 \
		CHECK_EQ_I64(tariff_parse((json), &t_, err_, sizeof(err_)), XQ_EINVAL); \
		CHECK_STR(err_, (msg));                                        \
		CHECK(((unsigned char *)&t_)[0] == 0x5A && ((unsigned char *)&t_)[sizeof(t_) - 1] == 0x5A); \
	} while (0)

static int parse_ok(const char *json, struct tariff *t)
{
	char err[256];
	int rc = tariff_parse(json, t, err, sizeof(err));

	if (rc)
		fprintf(stderr, "unexpected rejection: %s\n", err);
	return rc;
}

/* A fixed electric tariff with the given tiers JSON and extra top-level keys. */
#define EL(tiers, extra) "{\"utility\":\"electric\",\"basis\":\"monthly\",\"tiers\":" tiers extra "}"
#define T3 "[{\"upto_kwh\":240,\"price\":\"0.4883\"},{\"upto_kwh\":400,\"price\":\"0.5383\"},{\"price\":\"0.7883\"}]"
#define TOU2(model, p1, p2)                                                    \
	",\"tou\":{\"model\":\"" model "\",\"periods\":[" p1 "," p2 "]}"

TEST(parse_beijing)
{
	struct tariff t;
	char err[64] = "junk";

	CHECK_EQ_I64(tariff_parse(BEIJING, &t, err, sizeof(err)), XQ_OK);
	CHECK_STR(err, "");
	CHECK_EQ_I64(t.utility, TARIFF_ELECTRIC);
	CHECK_EQ_I64(t.basis, TARIFF_ANNUAL);
	CHECK_EQ_I64(t.tier_year_start_month, 1);
	CHECK_EQ_I64(t.n_tiers, 3);
	CHECK_EQ_I64(t.tiers[0].upto_milli, 2880000);
	CHECK_EQ_I64(t.tiers[1].upto_milli, 4800000);
	CHECK_EQ_I64(t.tiers[2].upto_milli, TARIFF_UNBOUNDED);
	CHECK_EQ_I64(t.tiers[0].price_hao, 4883);
	CHECK_EQ_I64(t.tiers[2].price_hao, 7883);
	CHECK_EQ_I64(t.tou_model, TARIFF_TOU_NONE);
	CHECK_EQ_I64(t.late_fee.rate_ppm_per_day, TARIFF_LATE_RATE_ELECTRIC_PPM);
	CHECK_EQ_I64(t.late_fee.minimum_fen, 0);
	CHECK_EQ_I64(t.round_unit, 1);
	CHECK_EQ_I64(tariff_price_hao(&t, 1, TARIFF_PEAK), 5383);
	CHECK_STR(tariff_unit_text(&t), "kWh");
	tariff_release(&t);
	CHECK_EQ_I64(t.n_tiers, 0);
}

TEST(parse_tou_models)
{
	struct tariff t;

	/* Model A: base + increment in every period. */
	CHECK_EQ_I64(parse_ok(ZHEJIANG_A, &t), XQ_OK);
	CHECK_EQ_I64(t.tou_model, TARIFF_TOU_A);
	CHECK_EQ_I64(t.n_periods, 2);
	CHECK(!t.periods[TARIFF_SHARP].used && t.periods[TARIFF_PEAK].used);
	CHECK_EQ_I64(t.periods[TARIFF_PEAK].windows[0].start_min, 480);
	CHECK_EQ_I64(t.periods[TARIFF_PEAK].windows[0].end_min, 1320);
	CHECK_EQ_I64(t.periods[TARIFF_VALLEY].windows[0].start_min, 1320);
	CHECK_EQ_I64(t.periods[TARIFF_VALLEY].windows[0].end_min, 480);
	CHECK_EQ_I64(tariff_price_hao(&t, 0, TARIFF_PEAK), 5680);
	CHECK_EQ_I64(tariff_price_hao(&t, 1, TARIFF_PEAK), 6180);   /* 0.618 published */
	CHECK_EQ_I64(tariff_price_hao(&t, 2, TARIFF_VALLEY), 5880); /* 0.588 published */

	/* Model B: the table as written. */
	CHECK_EQ_I64(parse_ok(SHANGHAI_B, &t), XQ_OK);
	CHECK_EQ_I64(t.tou_model, TARIFF_TOU_B);
	CHECK_EQ_I64(tariff_price_hao(&t, 1, TARIFF_PEAK), 6770);
	CHECK_EQ_I64(tariff_price_hao(&t, 2, TARIFF_VALLEY), 4870);
	CHECK_EQ_I64(t.household.min_size, 5);
	CHECK_EQ_I64(t.household.add_milli[0], 1200000);
	CHECK_EQ_I64(t.household.add_milli[1], 0);

	/* Model C: tier price + adjustment (negative allowed). */
	CHECK_EQ_I64(parse_ok(ANHUI_C, &t), XQ_OK);
	CHECK_EQ_I64(t.tou_model, TARIFF_TOU_C);
	CHECK_EQ_I64(t.periods[TARIFF_VALLEY].adjust_hao, -2500);
	CHECK_EQ_I64(tariff_price_hao(&t, 0, TARIFF_FLAT), 5953);
	CHECK_EQ_I64(tariff_price_hao(&t, 1, TARIFF_VALLEY), 3653);
}

TEST(parse_water_and_options)
{
	struct tariff t;

	CHECK_EQ_I64(parse_ok(BEIJING_WATER, &t), XQ_OK);
	CHECK_EQ_I64(t.utility, TARIFF_WATER);
	CHECK_STR(tariff_unit_text(&t), "m³");
	CHECK_EQ_I64(t.tiers[1].upto_milli, 260000);
	CHECK_EQ_I64(t.n_components, 3);
	CHECK_STR(t.components[0].label, "水费"); /* default labels */
	CHECK_STR(t.components[1].label, "水资源费");
	CHECK_STR(t.components[2].label, "污水处理费");
	CHECK(t.components[0].tiered && !t.components[1].tiered);
	CHECK_EQ_I64(t.components[0].price_hao[2], 60700);
	CHECK_EQ_I64(t.components[2].price_hao[0], 13600);
	CHECK_EQ_I64(t.household.per_person_over, 5);
	CHECK_EQ_I64(t.fixed[0].amount_fen, 250);
	CHECK_EQ_I64(t.late_fee.rate_ppm_per_day, 0); /* water: no default rate */

	CHECK_EQ_I64(parse_ok(GUANGDONG, &t), XQ_OK);
	CHECK_EQ_I64(t.n_seasons, 1);
	CHECK_EQ_I64(t.seasons[0].months, 0x7E0u); /* bits 5..10 */
	CHECK_EQ_I64(t.seasons[0].upto_milli[1], 600000);
	CHECK_EQ_I64(t.late_fee.rate_ppm_per_day, 500);
	CHECK_EQ_I64(t.late_fee.grace_days, 3);
	CHECK_EQ_I64(t.late_fee.minimum_fen, 100);
	CHECK_EQ_I64(t.late_fee.cap_pct, 100);
	CHECK_EQ_I64(t.round_unit, 0);
}

/* RULE: TOU-WINDOW-01 */
TEST(tou_window_01_cover_the_day_once)
{
	struct tariff t;

	/* Several windows per period, a midnight end written 24:00 or 00:00. */
	CHECK_EQ_I64(parse_ok(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"08:00-11:30\",\"18:00-22:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-24:00\",\"00:00-08:00\",\"11:30-18:00\"],\"price\":\"0.3\"}")),
		&t), XQ_OK);
	CHECK_EQ_I64(t.periods[TARIFF_VALLEY].n_windows, 3);
	CHECK_EQ_I64(t.periods[TARIFF_VALLEY].windows[0].end_min, 1440);
	CHECK_EQ_I64(parse_ok(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"00:00-12:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"12:00-00:00\"],\"price\":\"0.3\"}")),
		&t), XQ_OK);
	CHECK_EQ_I64(t.periods[TARIFF_VALLEY].windows[0].end_min, 1440);

	CHECK_REJECT(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"21:00-08:00\"],\"price\":\"0.3\"}")),
		"tou.periods[1].windows[0] 与 tou.periods[0].windows[0] 在 21:00 重叠");
	CHECK_REJECT(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:30-08:00\"],\"price\":\"0.3\"}")),
		"tou.periods 的时间窗口必须覆盖全天：22:00 不属于任何时段");
	CHECK_REJECT(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.3\"}",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.6\"}")),
		"tou.periods[1].name 重复或顺序不对：时段须按 sharp、peak、flat、valley 的顺序排列");
	CHECK_REJECT(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"8:00-22:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.3\"}")),
		"tou.periods[0].windows[0] 格式应为 \"HH:MM-HH:MM\"，如 \"22:00-06:00\"");
	CHECK_REJECT(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"08:00-24:30\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.3\"}")),
		"tou.periods[0].windows[0] 的时间无效（小时 00-23，结束可为 24:00，分钟 00-59）");
	CHECK_REJECT(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"08:00-08:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.3\"}")),
		"tou.periods[0].windows[0] 起止时间相同");
	CHECK_REJECT(EL("[{\"increment\":\"0\"}]",
		",\"tou\":{\"model\":\"A\",\"periods\":[{\"name\":\"peak\",\"windows\":[\"00:00-24:00\"],\"price\":\"0.6\"}]}"),
		"tou.periods 必须有 2 到 4 项");
	CHECK_REJECT(EL("[{\"increment\":\"0\"}]",
		",\"tou\":{\"model\":\"A\",\"periods\":[{},{},{},{},{}]}"),
		"tou.periods 必须有 2 到 4 项");
}

TEST(reject_structure)
{
	CHECK_REJECT("{", "价格规则不是有效的 JSON（第 1 字节附近）");
	CHECK_REJECT("{\"utility\":\"electric\",}", "价格规则不是有效的 JSON（第 23 字节附近）");
	CHECK_REJECT("[]", "价格规则必须是 JSON 对象");
	CHECK_REJECT(EL(T3, ",\"colour\":1"), "colour 是未知字段");
	CHECK_REJECT(EL(T3, ",\"basis\":\"annual\""), "basis 重复出现");
	CHECK_REJECT("{\"basis\":\"monthly\",\"tiers\":" T3 "}", "utility 缺失");
	CHECK_REJECT("{\"utility\":\"gas\",\"basis\":\"monthly\",\"tiers\":" T3 "}",
		     "utility 必须是 electric、water 之一");
	CHECK_REJECT("{\"utility\":\"electric\",\"basis\":\"weekly\",\"tiers\":" T3 "}",
		     "basis 必须是 monthly、annual 之一");
	CHECK_REJECT(EL(T3, ",\"format\":2"), "format 只支持 1");
	CHECK_REJECT(EL(T3, ",\"tier_year_start_month\":12"),
		     "tier_year_start_month 只用于 basis 为 annual 的价格");
	CHECK_REJECT(EL(T3, ",\"rounding\":\"HALF-EVEN\""), "rounding 必须是 MONEY-ROUND-01 之一");
	CHECK_REJECT(EL(T3, ",\"multiplier_round\":\"down\""), "multiplier_round 必须是 none、unit 之一");
	CHECK_REJECT(EL(T3, ",\"components\":[]"), "components 只用于水价（utility 为 water）");
	CHECK_REJECT("{\"utility\":\"electric\",\"basis\":\"monthly\"}", "tiers 缺失");
	CHECK_REJECT(EL("[]", ""), "tiers 必须有 1 到 5 项");
}

TEST(reject_tiers)
{
	CHECK_REJECT(EL("[{\"upto_kwh\":240,\"price\":\"0.4883\"},{\"upto_kwh\":240,\"price\":\"0.5383\"},"
			"{\"price\":\"0.7883\"}]", ""),
		     "tiers[1].upto_kwh 必须大于上一档");
	CHECK_REJECT(EL("[{\"upto_kwh\":240,\"price\":\"0.4883\"},{\"upto_kwh\":400,\"price\":\"0.5\"}]", ""),
		     "tiers[1].upto_kwh 必须省略：最后一档没有上限");
	CHECK_REJECT(EL("[{\"upto_kwh\":240,\"price\":\"0.4883\"},{\"price\":\"0.5\"},{\"price\":\"0.7\"}]", ""),
		     "tiers[1].upto_kwh 缺失：除最后一档外每档都要有上限");
	CHECK_REJECT(EL("[{\"upto_kwh\":0,\"price\":\"0.4883\"},{\"price\":\"0.5\"}]", ""),
		     "tiers[0].upto_kwh 必须大于 0");
	CHECK_REJECT(EL("[{\"upto_kwh\":240.5,\"price\":\"0.4883\"},{\"price\":\"0.5\"}]", ""),
		     "tiers[0].upto_kwh 必须是整数");
	CHECK_REJECT(EL("[{\"upto_kwh\":\"240\",\"price\":\"0.4883\"},{\"price\":\"0.5\"}]", ""),
		     "tiers[0].upto_kwh 必须是整数");
	CHECK_REJECT(EL("[{\"upto_kwh\":1000000001,\"price\":\"0.4883\"},{\"price\":\"0.5\"}]", ""),
		     "tiers[0].upto_kwh 必须在 0 到 1000000000 之间");
	CHECK_REJECT(EL("[{\"upto_m3\":240,\"price\":\"0.4883\"},{\"price\":\"0.5\"}]", ""),
		     "tiers[0].upto_m3 是未知字段");
	CHECK_REJECT(EL("[{\"price\":0.4883}]", ""),
		     "tiers[0].price 必须是字符串形式的价格（元），如 \"0.4883\"");
	CHECK_REJECT(EL("[{\"price\":\"0.48835\"}]", ""),
		     "tiers[0].price 不是有效的价格：最多 4 位小数，如 \"0.4883\"");
	CHECK_REJECT(EL("[{\"price\":\"-0.01\"}]", ""), "tiers[0].price 不能为负数");
	CHECK_REJECT(EL("[{\"price\":\"100.0001\"}]", ""), "tiers[0].price 不能超过 100 元");
	CHECK_REJECT(EL("[{\"price\":\"99999999999999999999\"}]", ""), "tiers[0].price 不能超过 100 元");
	CHECK_REJECT(EL("[{}]", ""), "tiers[0].price 缺失");
	CHECK_REJECT(EL("[{\"price\":\"0.5\"},{},{},{},{},{}]", ""), "tiers 必须有 1 到 5 项");
}

TEST(reject_tou_prices)
{
	/* Model A: tier 1 is the base, its increment must be 0. */
	CHECK_REJECT(EL("[{\"upto_kwh\":240,\"increment\":\"0.01\"},{\"increment\":\"0.05\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.3\"}")),
		"tiers[0].increment 必须为 0：第一档按各时段基础价计费");
	CHECK_REJECT(EL("[{\"upto_kwh\":240},{\"increment\":\"0.05\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"]}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.3\"}")),
		"tou.periods[0].price 缺失");
	CHECK_REJECT(EL("[{\"upto_kwh\":240,\"price\":\"0.5\"},{\"increment\":\"0.05\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"price\":\"0.3\"}")),
		"tiers[0].price 是未知字段");
	/* Model B: exactly the periods of tou.periods. */
	CHECK_REJECT(EL("[{\"prices\":{\"peak\":\"0.6\"}}]", TOU2("B",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"]}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"]}")),
		"tiers[0].prices.valley 缺失");
	CHECK_REJECT(EL("[{\"prices\":{\"peak\":\"0.6\",\"valley\":\"0.3\",\"flat\":\"0.4\"}}]", TOU2("B",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"]}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"]}")),
		"tiers[0].prices.flat 不是 tou.periods 中的时段");
	CHECK_REJECT(EL("[{\"prices\":{\"peak\":\"0.6\",\"noon\":\"0.3\"}}]", TOU2("B",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"]}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"]}")),
		"tiers[0].prices.noon 是未知字段");
	CHECK_REJECT(EL("[{\"prices\":[\"0.6\",\"0.3\"]}]", TOU2("B",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"]}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"]}")),
		"tiers[0].prices 必须是对象，如 {\"peak\": \"0.617\", \"valley\": \"0.307\"}");
	/* Model C: every tier x period price must stay >= 0. */
	CHECK_REJECT(EL("[{\"upto_kwh\":240,\"price\":\"0.2\"},{\"price\":\"0.5\"}]", TOU2("C",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"adjust\":\"0.03\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"adjust\":\"-0.25\"}")),
		"tiers[0] 的谷时价格（-0.0500 元）必须在 0 到 100 元之间");
	CHECK_REJECT(EL("[{\"price\":\"0.5\"}]", TOU2("C",
		"{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],\"adjust\":\"-100.01\"}",
		"{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],\"adjust\":\"-0.25\"}")),
		"tou.periods[0].adjust 不能低于 -100 元");
	CHECK_REJECT(EL(T3, ",\"tou\":{\"model\":\"D\",\"periods\":[]}"), "tou.model 必须是 A、B、C 之一");
	CHECK_REJECT("{\"utility\":\"water\",\"basis\":\"monthly\",\"tiers\":[{}],"
		     "\"tou\":{\"model\":\"A\"},\"components\":[{\"name\":\"water\",\"price\":\"1\"}]}",
		     "tou 只用于电价（utility 为 electric）");
}

TEST(reject_household_seasons)
{
	CHECK_REJECT(EL(T3, ",\"household\":{\"min_size\":5,\"add_kwh\":[100]}"),
		     "household.add_kwh 必须正好有 2 项");
	CHECK_REJECT(EL(T3, ",\"household\":{\"min_size\":5,\"add_kwh\":[200,0]}"),
		     "household.add_kwh 使第 2 档上限不再大于第 1 档");
	CHECK_REJECT(EL(T3, ",\"household\":{\"min_size\":6,\"per_person_over\":5,\"add_kwh\":[30,20]}"),
		     "household.add_kwh[1] 不能小于前一项：按人数累加时各档上限须保持递增");
	CHECK_REJECT(EL(T3, ",\"household\":{\"min_size\":5,\"per_person_over\":5,\"add_kwh\":[30,30]}"),
		     "household.per_person_over 必须在 1 到 4 之间");
	CHECK_REJECT(EL(T3, ",\"household\":{\"add_kwh\":[30,30]}"), "household.min_size 缺失");
	CHECK_REJECT(EL("[{\"price\":\"0.5\"}]", ",\"household\":{\"min_size\":5,\"add_kwh\":[]}"),
		     "household 需要至少两档");
	CHECK_REJECT("{\"utility\":\"electric\",\"basis\":\"annual\",\"tiers\":" T3
		     ",\"seasons\":[{\"months\":[7],\"upto_kwh\":[260,600]}]}",
		     "seasons 只用于 basis 为 monthly 的价格");
	CHECK_REJECT(EL(T3, ",\"seasons\":[{\"months\":[7,8],\"upto_kwh\":[260,600]},"
			    "{\"months\":[7],\"upto_kwh\":[200,400]}]"),
		     "seasons[1].months[0] 的 7 月已出现在前面的季节中");
	CHECK_REJECT(EL(T3, ",\"seasons\":[{\"months\":[13],\"upto_kwh\":[260,600]}]"),
		     "seasons[0].months[0] 必须在 1 到 12 之间");
	CHECK_REJECT(EL(T3, ",\"seasons\":[{\"months\":[7],\"upto_kwh\":[600,260]}]"),
		     "seasons[0].upto_kwh[1] 必须大于上一档");
	/* The allowance is checked against the season's bounds too. */
	CHECK_REJECT(EL(T3, ",\"seasons\":[{\"months\":[7],\"upto_kwh\":[260,300]}],"
			    "\"household\":{\"min_size\":5,\"add_kwh\":[100,0]}"),
		     "household.add_kwh 使第 2 档上限不再大于第 1 档");
}

TEST(reject_water_fixed_late_fee)
{
#define WATER(comp, extra)                                                     \
	"{\"utility\":\"water\",\"basis\":\"monthly\",\"tiers\":[{\"upto_m3\":26},{}]," \
	"\"components\":" comp extra "}"
	CHECK_REJECT("{\"utility\":\"water\",\"basis\":\"monthly\",\"tiers\":[{}]}", "components 缺失");
	CHECK_REJECT(WATER("[{\"name\":\"water\",\"price\":\"1\",\"prices\":[\"1\",\"2\"]}]", ""),
		     "components[0] 需要 price（不分档）或 prices（每档一个）二者之一");
	CHECK_REJECT(WATER("[{\"name\":\"water\",\"prices\":[\"1\"]}]", ""),
		     "components[0].prices 必须正好有 2 项");
	CHECK_REJECT(WATER("[{\"name\":\"garbage\",\"price\":\"1\"}]", ""),
		     "components[0].label 缺失（只有 water、resource、sewage 有默认名称）");
	CHECK_REJECT(WATER("[{\"name\":\"Water\",\"price\":\"1\"}]", ""),
		     "components[0].name 必须是 1 到 15 个小写字母、数字或下划线，并以字母开头");
	CHECK_REJECT(WATER("[{\"name\":\"water\",\"price\":\"1\"},{\"name\":\"water\",\"price\":\"2\"}]", ""),
		     "components[1].name 与 components[0] 重复");
	CHECK_REJECT(WATER("[{\"name\":\"water\",\"price\":\"1\"}]",
			   ",\"tiers\":[{\"upto_m3\":26,\"price\":\"1\"},{}]"),
		     "tiers 重复出现");
	CHECK_REJECT(EL(T3, ",\"fixed\":[{\"name\":\"x\",\"label\":\"公共照明费\",\"amount\":\"5.001\"}]"),
		     "fixed[0].amount 不是有效的金额：最多 2 位小数，如 \"5.00\"");
	CHECK_REJECT(EL(T3, ",\"fixed\":[{\"name\":\"x\",\"label\":\"公共照明费\",\"amount\":\"0\"}]"),
		     "fixed[0].amount 必须大于 0");
	CHECK_REJECT(EL(T3, ",\"fixed\":[{\"name\":\"x\",\"label\":\"公共照明费\",\"amount\":\"10000.01\"}]"),
		     "fixed[0].amount 不能超过 10000.00 元");
	CHECK_REJECT(EL(T3, ",\"fixed\":[{\"name\":\"x\",\"label\":\"一二三四五六七八九十一二三四五六七\",\"amount\":\"1\"}]"),
		     "fixed[0].label 必须是 1 到 16 个字的文字");
	CHECK_REJECT(EL(T3, ",\"fixed\":[{\"name\":\"x\",\"label\":\"a\\u0001\",\"amount\":\"1\"}]"),
		     "fixed[0].label 必须是 1 到 16 个字的文字");
	CHECK_REJECT(EL(T3, ",\"late_fee\":{\"rate_ppm_per_day\":10001}"),
		     "late_fee.rate_ppm_per_day 必须在 0 到 10000 之间");
	CHECK_REJECT(EL(T3, ",\"late_fee\":{\"grace_days\":3}"), "late_fee.rate_ppm_per_day 缺失");
	CHECK_REJECT(EL(T3, ",\"late_fee\":{\"rate_ppm_per_day\":1000,\"minimum\":1}"),
		     "late_fee.minimum 必须是字符串形式的金额（元），如 \"5.00\"");
	CHECK_REJECT(EL(T3, ",\"late_fee\":{\"rate_ppm_per_day\":1000,\"cap_pct\":0}"),
		     "late_fee.cap_pct 必须在 1 到 1000 之间");
#undef WATER
}

TEST(error_text_is_cut_on_a_character)
{
	struct tariff t;
	char err[12];

	/* "tiers[1].upto_kwh 必须..." cut to 11 bytes must not end mid-character. */
	CHECK_EQ_I64(tariff_parse(EL("[{\"upto_kwh\":9,\"price\":\"1\"},{\"upto_kwh\":9,\"price\":\"1\"},"
				     "{\"price\":\"1\"}]", ""), &t, err, sizeof(err)), XQ_EINVAL);
	CHECK_STR(err, "tiers[1].up");
	CHECK_EQ_I64(tariff_parse("[]", &t, err, sizeof(err)), XQ_EINVAL);
	CHECK_STR(err, "价格规"); /* 11 bytes + NUL would split the fourth character */
	CHECK_EQ_I64(tariff_parse(NULL, &t, NULL, 0), XQ_EINVAL);
}

/* parse -> write -> parse -> write gives the same bytes. */
static void check_round_trip(const char *json)
{
	struct tariff a, b;
	char *j1 = NULL, *j2 = NULL;

	CHECK_EQ_I64(parse_ok(json, &a), XQ_OK);
	CHECK_EQ_I64(tariff_to_json(&a, &j1), XQ_OK);
	CHECK_EQ_I64(parse_ok(j1, &b), XQ_OK);
	CHECK_EQ_I64(tariff_to_json(&b, &j2), XQ_OK);
	CHECK_STR(j1, j2);
	free(j1);
	free(j2);
}

TEST(round_trip)
{
	char *j = NULL;
	struct tariff t;

	check_round_trip(BEIJING);
	check_round_trip(ZHEJIANG_A);
	check_round_trip(SHANGHAI_B);
	check_round_trip(ANHUI_C);
	check_round_trip(BEIJING_WATER);
	check_round_trip(GUANGDONG);

	/* The canonical form: defaults written out, 4-decimal prices, fixed order. */
	CHECK_EQ_I64(parse_ok(ZHEJIANG_A, &t), XQ_OK);
	CHECK_EQ_I64(tariff_to_json(&t, &j), XQ_OK);
	CHECK_STR(j, "{\"format\":1,\"utility\":\"electric\",\"basis\":\"annual\","
		     "\"tier_year_start_month\":1,\"tiers\":[{\"upto_kwh\":2760,\"increment\":\"0.0000\"},"
		     "{\"upto_kwh\":4800,\"increment\":\"0.0500\"},{\"increment\":\"0.3000\"}],"
		     "\"tou\":{\"model\":\"A\",\"periods\":[{\"name\":\"peak\",\"windows\":[\"08:00-22:00\"],"
		     "\"price\":\"0.5680\"},{\"name\":\"valley\",\"windows\":[\"22:00-08:00\"],"
		     "\"price\":\"0.2880\"}]},\"late_fee\":{\"rate_ppm_per_day\":1000,\"grace_days\":0,"
		     "\"minimum\":null,\"cap_pct\":null},\"multiplier_round\":\"unit\","
		     "\"rounding\":\"MONEY-ROUND-01\"}");
	free(j);

	/* Seasons' months come out sorted, a 00:00 end as 24:00. */
	CHECK_EQ_I64(parse_ok(GUANGDONG, &t), XQ_OK);
	CHECK_EQ_I64(tariff_to_json(&t, &j), XQ_OK);
	CHECK(strstr(j, "\"seasons\":[{\"months\":[5,6,7,8,9,10],\"upto_kwh\":[260,600]}]") != NULL);
	CHECK(strstr(j, "\"late_fee\":{\"rate_ppm_per_day\":500,\"grace_days\":3,\"minimum\":\"1.00\","
			"\"cap_pct\":100}") != NULL);
	free(j);
	CHECK_EQ_I64(parse_ok(EL("[{\"increment\":\"0\"}]", TOU2("A",
		"{\"name\":\"peak\",\"windows\":[\"00:00-12:00\"],\"price\":\"0.6\"}",
		"{\"name\":\"valley\",\"windows\":[\"12:00-00:00\"],\"price\":\"0.3\"}")), &t), XQ_OK);
	CHECK_EQ_I64(tariff_to_json(&t, &j), XQ_OK);
	CHECK(strstr(j, "[\"12:00-24:00\"]") != NULL);
	free(j);
}

TEST(tier_year)
{
	struct tariff t;
	int y = 0;

	CHECK_EQ_I64(parse_ok(BEIJING, &t), XQ_OK);
	CHECK_EQ_I64(tariff_tier_year(&t, 2025, 1, &y), XQ_OK);
	CHECK_EQ_I64(y, 2025);
	/* Guizhou: the tier year starts with the December bill. */
	CHECK_EQ_I64(parse_ok("{\"utility\":\"electric\",\"basis\":\"annual\",\"tier_year_start_month\":12,"
			      "\"tiers\":[{\"upto_kwh\":3000,\"price\":\"0.4556\"},"
			      "{\"upto_kwh\":4700,\"price\":\"0.5056\"},{\"price\":\"0.7556\"}]}", &t), XQ_OK);
	CHECK_EQ_I64(tariff_tier_year(&t, 2024, 12, &y), XQ_OK);
	CHECK_EQ_I64(y, 2024);
	CHECK_EQ_I64(tariff_tier_year(&t, 2025, 11, &y), XQ_OK);
	CHECK_EQ_I64(y, 2024);
	CHECK_EQ_I64(tariff_tier_year(&t, 2025, 12, &y), XQ_OK);
	CHECK_EQ_I64(y, 2025);
	CHECK_EQ_I64(tariff_tier_year(&t, 2025, 13, &y), XQ_EINVAL);
	CHECK_STR(tariff_period_name(TARIFF_VALLEY), "valley");
	CHECK_STR(tariff_period_label_zh(TARIFF_SHARP), "尖峰");
}

int main(void)
{
	RUN(parse_beijing);
	RUN(parse_tou_models);
	RUN(parse_water_and_options);
	RUN(tou_window_01_cover_the_day_once);
	RUN(reject_structure);
	RUN(reject_tiers);
	RUN(reject_tou_prices);
	RUN(reject_household_seasons);
	RUN(reject_water_fixed_late_fee);
	RUN(error_text_is_cut_on_a_character);
	RUN(round_trip);
	RUN(tier_year);
	return test_report();
}
