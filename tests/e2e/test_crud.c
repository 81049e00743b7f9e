/*
 * test_crud.c - end to end through nginx: the console's estate CRUD
 * (communities, buildings, houses, residents, meters), validation errors,
 * hostile strings stored verbatim, and the audit rows every change writes.
 */
#include "client.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADMIN_PW (getenv("XQ_TEST_ADMIN_PASSWORD") ? getenv("XQ_TEST_ADMIN_PASSWORD") : "Xiaoqu@2026")
#define A "/admin/api/v1"

static struct client c;
static char uniq[32];
static long community_id, building_id, house_id, resident_id;

static long post_id(const char *path, const char *body)
{
	long st = client_req(&c, "POST", path, body, NULL);
	if (st != 201)
		fprintf(stderr, "POST %s -> %ld %s\n", path, st, c.body ? c.body : "");
	CHECK_EQ_I64(st, 201);
	return (long)jnum(&c, "id");
}

TEST(community_round_trip)
{
	char body[512], path[128];

	snprintf(body, sizeof(body),
		 "{\"code\":\"T%s\",\"name\":\"测试花园\",\"address\":\"杭州市西湖区\",\"company\":\"测试物业\"}", uniq);
	community_id = post_id(A "/communities", body);
	CHECK(community_id > 0);
	CHECK_STR(jstr(&c, "name"), "测试花园");
	snprintf(path, sizeof(path), A "/communities/%ld", community_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&c, "address"), "杭州市西湖区");
	snprintf(body, sizeof(body), "{\"code\":\"T%s\",\"name\":\"测试花园二期\"}", uniq);
	CHECK_EQ_I64(client_req(&c, "PUT", path, body, NULL), 200);
	CHECK_STR(jstr(&c, "name"), "测试花园二期");
	/* the same code twice is a conflict with a clear message */
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", body, NULL), 409);
	CHECK_STR(jcode(&c), "CONFLICT");
	CHECK_STR(jstr(&c, "message"), "小区编号已存在");
	snprintf(path, sizeof(path), A "/communities?q=T%s", uniq);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);
	CHECK_EQ_I64(client_req(&c, "GET", A "/communities/99999999", NULL, NULL), 404);
	CHECK_STR(jcode(&c), "NOT_FOUND");
	CHECK_EQ_I64(client_req(&c, "GET", A "/communities/abc", NULL, NULL), 404);
}

TEST(building_and_house_round_trip)
{
	char body[512], path[160];

	snprintf(body, sizeof(body), "{\"community_id\":%ld,\"name\":\"1号楼\",\"floors\":18,\"units\":2}",
		 community_id);
	building_id = post_id(A "/buildings", body);
	CHECK_EQ_I64(jnum(&c, "floors"), 18);
	/* a building in a community that does not exist */
	CHECK_EQ_I64(client_reqf(&c, "POST", A "/buildings", "{\"community_id\":99999999,\"name\":\"X\"}"), 400);
	CHECK_STR(jstr(&c, "message"), "所属小区不存在");

	snprintf(body, sizeof(body),
		 "{\"building_id\":%ld,\"unit_no\":\"1\",\"room\":\"101\",\"floor\":1,\"area_m2\":89.5,"
		 "\"status\":\"occupied\",\"billing_mode\":\"postpaid\",\"household_size\":3}", building_id);
	house_id = post_id(A "/houses", body);
	CHECK_STR(jstr(&c, "area_m2"), "89.50");
	CHECK_STR(jstr(&c, "building_name"), "1号楼");
	CHECK_EQ_I64(client_req(&c, "POST", A "/houses", body, NULL), 409);
	CHECK_STR(jstr(&c, "message"), "该楼栋的同一单元下已有相同房号");

	snprintf(path, sizeof(path), A "/houses?building_id=%ld&page=1&page_size=10", building_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);
	CHECK_EQ_I64(jnum(&c, "page_size"), 10);
	CHECK_STR(jstr(&c, "items.0.room"), "101");

	snprintf(path, sizeof(path), A "/houses/%ld", house_id);
	snprintf(body, sizeof(body), "{\"building_id\":%ld,\"room\":\"101\",\"area_m2\":\"90.25\",\"status\":\"vacant\"}",
		 building_id);
	CHECK_EQ_I64(client_req(&c, "PUT", path, body, NULL), 200);
	CHECK_STR(jstr(&c, "area_m2"), "90.25");
	CHECK_STR(jstr(&c, "status"), "vacant");
	/* paging bounds are validated */
	CHECK_EQ_I64(client_req(&c, "GET", A "/houses?page_size=100000", NULL, NULL), 400);
	CHECK_STR(jstr(&c, "field"), "page_size");
	CHECK_EQ_I64(client_req(&c, "GET", A "/houses?status=haunted", NULL, NULL), 400);
}

TEST(resident_and_link)
{
	char body[512], path[160];

	snprintf(body, sizeof(body),
		 "{\"community_id\":%ld,\"code\":\"R%s\",\"name\":\"张三\",\"mobile\":\"13800138000\"}",
		 community_id, uniq);
	resident_id = post_id(A "/residents", body);
	CHECK_STR(jstr(&c, "name"), "张三");
	snprintf(body, sizeof(body), "{\"community_id\":%ld,\"code\":\"Rb%s\",\"name\":\"李四\",\"mobile\":\"12345\"}",
		 community_id, uniq);
	CHECK_EQ_I64(client_req(&c, "POST", A "/residents", body, NULL), 400);
	CHECK_STR(jstr(&c, "field"), "mobile");

	snprintf(path, sizeof(path), A "/houses/%ld/residents", house_id);
	snprintf(body, sizeof(body), "{\"resident_id\":%ld,\"relation\":\"owner\",\"move_in\":\"2024-05-01\"}",
		 resident_id);
	CHECK_EQ_I64(client_req(&c, "POST", path, body, NULL), 201);
	CHECK_EQ_I64(client_req(&c, "POST", path, body, NULL), 409);
	snprintf(body, sizeof(body), "{\"resident_id\":%ld,\"relation\":\"owner\",\"move_in\":\"2024-02-30\"}",
		 resident_id);
	CHECK_EQ_I64(client_req(&c, "POST", path, body, NULL), 400);
	CHECK_STR(jstr(&c, "field"), "move_in");

	snprintf(path, sizeof(path), A "/houses/%ld", house_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&c, "residents.0.relation"), "owner");
	CHECK_STR(jstr(&c, "owners"), "张三");
	/* a resident still linked to a house cannot be deleted */
	snprintf(path, sizeof(path), A "/residents/%ld", resident_id);
	CHECK_EQ_I64(client_req(&c, "DELETE", path, NULL, NULL), 409);
	CHECK_STR(jcode(&c), "IN_USE");
}

TEST(meter_round_trip)
{
	char body[768], path[160];
	long meter_id;

	snprintf(body, sizeof(body),
		 "{\"community_id\":%ld,\"house_id\":%ld,\"utility\":\"electric\",\"meter_no\":\"E%s\","
		 "\"model\":\"DDZY71\",\"digits\":6,\"multiplier\":1,\"protocol\":\"dlt645\","
		 "\"address\":\"000000123456\",\"smart\":true,\"has_relay\":true,"
		 "\"installed_at\":\"2025-01-01\",\"initial_reading\":1500000}",
		 community_id, house_id, uniq);
	meter_id = post_id(A "/meters", body);
	CHECK_STR(jstr(&c, "protocol"), "dlt645");
	/* a DL/T 645 meter needs a 12-digit address */
	snprintf(body, sizeof(body),
		 "{\"community_id\":%ld,\"house_id\":%ld,\"utility\":\"electric\",\"meter_no\":\"Ex%s\","
		 "\"protocol\":\"dlt645\",\"address\":\"12ab\",\"installed_at\":\"2025-01-01\"}",
		 community_id, house_id, uniq);
	CHECK_EQ_I64(client_req(&c, "POST", A "/meters", body, NULL), 400);
	CHECK_STR(jstr(&c, "field"), "address");

	snprintf(path, sizeof(path), A "/meters/%ld", meter_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK(cJSON_GetArraySize(jget(&c, "readings")) >= 1);

	/* replace: old removed with its final reading, new one installed */
	snprintf(path, sizeof(path), A "/meters/%ld/replace", meter_id);
	snprintf(body, sizeof(body),
		 "{\"removed_at\":\"2026-06-01\",\"final_reading\":2500000,\"new_meter_no\":\"En%s\","
		 "\"new_model\":\"DDZY71\",\"new_digits\":6,\"new_multiplier\":1,\"new_protocol\":\"manual\","
		 "\"new_address\":\"\",\"new_smart\":false,\"new_has_relay\":false,\"new_initial_reading\":0}",
		 uniq);
	CHECK_EQ_I64(client_req(&c, "POST", path, body, NULL), 200);
	CHECK_STR(jstr(&c, "old.status"), "removed");
	CHECK_STR(jstr(&c, "new.status"), "active");
	snprintf(path, sizeof(path), A "/meters?house_id=%ld&status=active", house_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);
}

TEST(move_out_and_meter_remove)
{
	char body[512], path[160];
	long link_id, meter_id;

	/* the link created in resident_and_link moves out; twice is refused */
	snprintf(path, sizeof(path), A "/residents/%ld", resident_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	link_id = (long)jnum(&c, "houses.0.id");
	CHECK(link_id > 0);
	snprintf(path, sizeof(path), A "/house-residents/%ld/move-out", link_id);
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"move_out\":\"2024-04-01\"}", NULL), 400);
	CHECK_STR(jstr(&c, "field"), "move_out");
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"move_out\":\"2026-10-31\"}", NULL), 200);
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"move_out\":\"2026-11-01\"}", NULL), 409);
	snprintf(path, sizeof(path), A "/houses/%ld", house_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK(jget(&c, "owners") && cJSON_IsNull(jget(&c, "owners")));
	CHECK_STR(jstr(&c, "residents.0.move_out"), "2026-10-31");

	/* a water meter: installed, read, removed with a final reading below the last is refused */
	snprintf(body, sizeof(body),
		 "{\"community_id\":%ld,\"house_id\":%ld,\"utility\":\"water\",\"meter_no\":\"W%s\","
		 "\"digits\":5,\"installed_at\":\"2025-03-01\",\"initial_reading\":12000}",
		 community_id, house_id, uniq);
	meter_id = post_id(A "/meters", body);
	CHECK_STR(jstr(&c, "installed_at"), "2025-03-01T00:00:00.000Z");
	snprintf(path, sizeof(path), A "/meters/%ld/remove", meter_id);
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"removed_at\":\"2026-01-01\",\"final_reading\":11000}", NULL), 400);
	CHECK_STR(jstr(&c, "field"), "final_reading");
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"removed_at\":\"2026-01-01\",\"final_reading\":99000}", NULL), 200);
	CHECK_STR(jstr(&c, "status"), "removed");
	CHECK_EQ_I64(jnum(&c, "final_reading"), 99000);
	CHECK_EQ_I64(client_req(&c, "POST", path, "{\"removed_at\":\"2026-02-01\",\"final_reading\":99000}", NULL), 409);
	/* a removed meter keeps its history: both readings are there */
	snprintf(path, sizeof(path), A "/meters/%ld", meter_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(cJSON_GetArraySize(jget(&c, "readings")), 2);
	CHECK_EQ_I64(jnum(&c, "readings.0.value"), 99000);
	CHECK_EQ_I64(client_reqf(&c, "PUT", path, "{\"meter_no\":\"W%s\"}", uniq), 409);
}

TEST(validation_errors)
{
	char big[100 * 1024];

	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "{\"code\": \"x\", ", NULL), 400);
	CHECK_STR(jcode(&c), "BAD_JSON");
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "[1,2]", NULL), 400);
	CHECK_STR(jcode(&c), "BAD_JSON");
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "{\"code\":\"a\",\"name\":\"b\"} trailing", NULL), 400);
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "{\"code\":12,\"name\":\"b\"}", NULL), 400);
	CHECK_STR(jcode(&c), "INVALID_ARGUMENT");
	CHECK_STR(jstr(&c, "field"), "code");
	CHECK(jstr(&c, "message") && strstr(jstr(&c, "message"), "小区编号"));
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "{\"name\":\"b\"}", NULL), 400);
	CHECK_STR(jstr(&c, "field"), "code");
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "{\"code\":\"a\",\"name\":\"b\",\"evil\":1}", NULL), 400);
	CHECK_STR(jstr(&c, "field"), "evil");
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "{\"code\":\"a\",\"name\":\"b\",\"name\":\"c\"}", NULL), 400);
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "{\"code\":\"\",\"name\":\"b\"}", NULL), 400);
	CHECK_EQ_I64(client_reqf(&c, "POST", A "/buildings", "{\"community_id\":1.5,\"name\":\"b\"}"), 400);
	CHECK_STR(jstr(&c, "field"), "community_id");
	CHECK_EQ_I64(client_reqf(&c, "POST", A "/houses", "{\"building_id\":%ld,\"room\":\"1\",\"area_m2\":1.234}", building_id), 400);
	CHECK_STR(jstr(&c, "field"), "area_m2");
	CHECK_EQ_I64(client_reqf(&c, "POST", A "/houses", "{\"building_id\":%ld,\"room\":\"1\",\"floor\":\"3\"}", building_id), 400);
	CHECK_STR(jstr(&c, "field"), "floor");
	/* not JSON at all */
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", "code=a&name=b", "application/x-www-form-urlencoded"), 415);
	CHECK_STR(jcode(&c), "UNSUPPORTED_MEDIA_TYPE");
	/* a body over api.max_body (64 KiB) */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '{';
	big[1] = '"';
	CHECK_EQ_I64(client_req(&c, "POST", A "/communities", big, NULL), 413);
	CHECK_STR(jcode(&c), "BODY_TOO_LARGE");
	/* still alive and well */
	CHECK_EQ_I64(client_req(&c, "GET", "/healthz", NULL, NULL), 200);
}

/* Stores s in every string field of a community and a resident and reads it back verbatim. */
static void check_hostile(const char *s, int i)
{
	char body[2048], path[160], code[40];
	char *q = json_quote(s);
	long id;

	snprintf(code, sizeof(code), "H%d-%s", i, uniq);
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":%s,\"address\":%s,\"company\":%s}", code, q, q, q);
	id = post_id(A "/communities", body);
	snprintf(path, sizeof(path), A "/communities/%ld", id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&c, "name"), s);
	CHECK_STR(jstr(&c, "address"), s);
	CHECK_STR(jstr(&c, "company"), s);
	snprintf(body, sizeof(body), "{\"community_id\":%ld,\"code\":\"%s\",\"name\":%s,\"phone\":\"\",\"note\":%s}",
		 id, code, q, q);
	CHECK_EQ_I64(client_req(&c, "POST", A "/residents", body, NULL), 201);
	CHECK_STR(jstr(&c, "name"), s);
	CHECK_STR(jstr(&c, "note"), s);
	free(q);
}

TEST(sql_metacharacters_stored_verbatim)
{
	static const char *const hostile[] = {
		"Robert'); DROP TABLE house;--",
		"\" OR \"1\"=\"1",
		"100% _under_ \\back\\slash",
		"' UNION SELECT password_hash FROM staff_user --",
		"王小明`; SELECT SLEEP(5); #",
		"🏠 emoji 𝕏 \t tab",
	};
	char path[160];

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		check_hostile(hostile[i], (int)i);
	/* the tables are all still there and a LIKE search treats % and _ literally */
	CHECK_EQ_I64(client_req(&c, "GET", A "/houses", NULL, NULL), 200);
	snprintf(path, sizeof(path), A "/communities?q=100%%25%%20_under_");
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);
	CHECK_EQ_I64(client_req(&c, "GET", A "/communities?q=%25", NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 1);
}

TEST(audit_rows_written)
{
	char path[160];
	cJSON *items, *it;
	int creates = 0, updates = 0;

	snprintf(path, sizeof(path), A "/audit?entity=house&entity_id=%ld", house_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	items = jget(&c, "items");
	CHECK(cJSON_GetArraySize(items) >= 2);
	cJSON_ArrayForEach(it, items) {
		const char *action = cJSON_GetObjectItem(it, "action")->valuestring;
		CHECK_STR(cJSON_GetObjectItem(it, "actor")->valuestring, "admin");
		if (!strcmp(action, "create")) {
			creates++;
			CHECK(cJSON_IsNull(cJSON_GetObjectItem(it, "before")));
			CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "after"), "room")->valuestring, "101");
		} else if (!strcmp(action, "update")) {
			updates++;
			CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "before"), "status")->valuestring, "occupied");
			CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "after"), "status")->valuestring, "vacant");
		}
	}
	CHECK_EQ_I64(creates, 1);
	CHECK_EQ_I64(updates, 1);
	/* a refused change leaves no audit row */
	snprintf(path, sizeof(path), A "/audit?entity=community&entity_id=%ld", community_id);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_EQ_I64(jnum(&c, "total"), 2); /* create + update; the 409 duplicate wrote nothing */
}

TEST(delete_in_use_and_cascade_order)
{
	char path[160], body[256];
	long b2;

	/* a community with buildings cannot be deleted */
	snprintf(path, sizeof(path), A "/communities/%ld", community_id);
	CHECK_EQ_I64(client_req(&c, "DELETE", path, NULL, NULL), 409);
	CHECK_STR(jcode(&c), "IN_USE");
	/* an empty building can, and the delete is audited */
	snprintf(body, sizeof(body), "{\"community_id\":%ld,\"name\":\"临时楼\"}", community_id);
	b2 = post_id(A "/buildings", body);
	snprintf(path, sizeof(path), A "/buildings/%ld", b2);
	CHECK_EQ_I64(client_req(&c, "DELETE", path, NULL, NULL), 200);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 404);
	snprintf(path, sizeof(path), A "/audit?entity=building&entity_id=%ld", b2);
	CHECK_EQ_I64(client_req(&c, "GET", path, NULL, NULL), 200);
	CHECK_STR(jstr(&c, "items.0.action"), "delete");
	CHECK_STR(jstr(&c, "items.0.before.name"), "临时楼");
}

int main(void)
{
	snprintf(uniq, sizeof(uniq), "%ld", (long)time(NULL) % 1000000);
	client_init(&c);
	if (client_login(&c, "admin", ADMIN_PW) != 200) {
		fprintf(stderr, "cannot log in as admin at %s: is the test stack up?\n", c.base);
		return 1;
	}
	RUN(community_round_trip);
	RUN(building_and_house_round_trip);
	RUN(resident_and_link);
	RUN(meter_round_trip);
	RUN(move_out_and_meter_remove);
	RUN(validation_errors);
	RUN(sql_metacharacters_stored_verbatim);
	RUN(audit_rows_written);
	RUN(delete_in_use_and_cascade_order);
	client_release(&c);
	return test_report();
}
